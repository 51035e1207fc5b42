//! The datasets and markets ckv knows, parsed from the names Binance uses (docs/architecture.md,
//! "Schemas"). An unknown name is `Error::Invalid` naming the accepted ones.

use std::str::FromStr;

use crate::error::Error;

/// A Binance Vision dataset family. All kline flavours (trade, mark, index, premium price) share
/// one CSV layout and one schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dataset {
    Klines,
    AggTrades,
    Trades,
    FundingRate,
}

/// A Binance market: spot, USD-M futures (`um`) or COIN-M futures (`cm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Market {
    Spot,
    Um,
    Cm,
}

impl FromStr for Dataset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "klines" | "markPriceKlines" | "indexPriceKlines" | "premiumIndexKlines" => {
                Dataset::Klines
            }
            "aggTrades" | "agg_trades" => Dataset::AggTrades,
            "trades" => Dataset::Trades,
            "fundingRate" | "funding_rate" => Dataset::FundingRate,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown dataset {other:?}; expected one of klines, markPriceKlines, \
                     indexPriceKlines, premiumIndexKlines, aggTrades, trades, fundingRate"
                )))
            }
        })
    }
}

impl FromStr for Market {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "spot" => Market::Spot,
            "um" => Market::Um,
            "cm" => Market::Cm,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown market {other:?}; expected one of spot, um, cm"
                )))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vision_dataset_name_maps() {
        for name in [
            "klines",
            "markPriceKlines",
            "indexPriceKlines",
            "premiumIndexKlines",
        ] {
            assert_eq!(name.parse::<Dataset>().unwrap(), Dataset::Klines);
        }
        assert!("bookTicker".parse::<Dataset>().is_err());
        assert!("usdm".parse::<Market>().is_err());
    }
}
