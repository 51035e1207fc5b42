//! `exchangeInfo`: rate limits (the simulator's configured `REQUEST_WEIGHT` budget and window)
//! and the symbols with their precision and filters, in Binance's shape (spot, USD-M or
//! COIN-M). Delisted symbols show status `BREAK` (spot) or `SETTLING`.

use crate::model::interval::DAY_US;
use crate::sim::market::catalog::{Market, Symbol};
use crate::sim::vision::csv::push_fixed;

use super::params::{ApiError, Params};
use super::queries::Ctx;

fn dec(units: i128, dp: u32, out: u32) -> String {
    let mut b = Vec::new();
    push_fixed(&mut b, units, dp, out);
    String::from_utf8(b).unwrap_or_default()
}

fn symbol_json(s: &Symbol, today: i64) -> String {
    let live = s.delisted.is_none_or(|d| d >= today);
    let filters = if s.market == Market::Spot {
        format!(
            "[{{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"{t}\",\"maxPrice\":\"1000000.00000000\",\"tickSize\":\"{t}\"}},\
             {{\"filterType\":\"LOT_SIZE\",\"minQty\":\"{l}\",\"maxQty\":\"9000.00000000\",\"stepSize\":\"{l}\"}}]",
            t = dec(1, s.price_dp, 8),
            l = dec(1, s.qty_dp, 8)
        )
    } else {
        format!(
            "[{{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"{t}\",\"maxPrice\":\"4529764\",\"tickSize\":\"{t}\"}},\
             {{\"filterType\":\"LOT_SIZE\",\"minQty\":\"{l}\",\"maxQty\":\"1000\",\"stepSize\":\"{l}\"}}]",
            t = dec(1, s.price_dp, s.price_dp),
            l = dec(1, s.qty_dp, s.qty_dp)
        )
    };
    match s.market {
        Market::Spot => format!(
            "{{\"symbol\":\"{}\",\"status\":\"{}\",\"baseAsset\":\"{}\",\"baseAssetPrecision\":8,\
             \"quoteAsset\":\"{}\",\"quotePrecision\":8,\"quoteAssetPrecision\":8,\
             \"orderTypes\":[\"LIMIT\",\"LIMIT_MAKER\",\"MARKET\"],\"isSpotTradingAllowed\":{live},\
             \"filters\":{filters},\"permissions\":[],\"permissionSets\":[[\"SPOT\"]]}}",
            s.name,
            if live { "TRADING" } else { "BREAK" },
            s.base,
            s.quote
        ),
        _ => {
            let cm = s.market == Market::Cm;
            let status = if live { "TRADING" } else { "SETTLING" };
            format!(
                "{{\"symbol\":\"{}\",\"pair\":\"{}\",\"contractType\":\"PERPETUAL\",\
                 \"deliveryDate\":4133404800000,\"onboardDate\":{},\"{}\":\"{status}\",\
                 {}\"baseAsset\":\"{}\",\"quoteAsset\":\"{}\",\"marginAsset\":\"{}\",\
                 \"pricePrecision\":{},\"quantityPrecision\":{},\"filters\":{filters}}}",
                s.name,
                s.pair,
                s.listed * DAY_US / 1000,
                if cm { "contractStatus" } else { "status" },
                if cm {
                    format!("\"contractSize\":{},", s.contract_size)
                } else {
                    String::new()
                },
                s.base,
                s.quote,
                if cm { &s.base } else { &s.quote },
                s.kline_dp,
                s.qty_dp
            )
        }
    }
}

/// The `exchangeInfo` body; `symbol` or `symbols=["A","B"]` narrow it (unknown → -1121).
/// `REQUEST_WEIGHT` is `weight_limit` per `window_s` seconds.
pub fn exchange_info(
    ctx: &Ctx,
    p: &Params,
    weight_limit: u32,
    window_s: u64,
) -> Result<String, ApiError> {
    let ex = &ctx.data.ex;
    let today = ex.today();
    let mut wanted: Option<Vec<String>> = p.get("symbol").map(|s| vec![s.to_string()]);
    if let Some(list) = p.get("symbols") {
        let names = list.trim_start_matches('[').trim_end_matches(']');
        wanted = Some(
            names
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_string())
                .collect(),
        );
    }
    let all: Vec<&Symbol> = ex
        .symbols_of(ctx.market)
        .into_iter()
        .filter(|s| s.listed <= today)
        .collect();
    let chosen: Vec<&Symbol> = match &wanted {
        None => all,
        Some(names) => names
            .iter()
            .map(|n| {
                all.iter()
                    .find(|s| s.name == *n)
                    .copied()
                    .ok_or_else(ApiError::bad_symbol)
            })
            .collect::<Result<_, _>>()?,
    };
    let symbols: Vec<String> = chosen.iter().map(|s| symbol_json(s, today)).collect();
    let kind = match ctx.market {
        Market::Spot => String::new(),
        Market::Um => "\"futuresType\":\"U_MARGINED\",".into(),
        Market::Cm => "\"futuresType\":\"COIN_MARGINED\",".into(),
    };
    let (interval, num, _) = super::interval_name(window_s);
    Ok(format!(
        "{{\"timezone\":\"UTC\",\"serverTime\":{},{kind}\"rateLimits\":[\
         {{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"{interval}\",\"intervalNum\":{num},\"limit\":{weight_limit}}},\
         {{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,\"limit\":100}},\
         {{\"rateLimitType\":\"RAW_REQUESTS\",\"interval\":\"MINUTE\",\"intervalNum\":5,\"limit\":61000}}],\
         \"exchangeFilters\":[],\"symbols\":[{}]}}",
        ex.now_us() / 1000,
        symbols.join(",")
    ))
}
