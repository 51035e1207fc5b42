//! The output schemas of docs/architecture.md ("Schemas"). One time unit everywhere:
//! `timestamp[us, tz=UTC]`. The schema never depends on where the rows came from.

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::dataset::Dataset;

impl Dataset {
    /// The schema (docs/architecture.md, "Schemas") of this dataset.
    pub fn schema(self) -> SchemaRef {
        static SCHEMAS: OnceLock<[SchemaRef; 4]> = OnceLock::new();
        let all = SCHEMAS.get_or_init(|| {
            [
                klines_schema(),
                agg_trades_schema(),
                trades_schema(),
                funding_schema(),
            ]
        });
        match self {
            Dataset::Klines => all[0].clone(),
            Dataset::AggTrades => all[1].clone(),
            Dataset::Trades => all[2].clone(),
            Dataset::FundingRate => all[3].clone(),
        }
    }

    /// Recognise a dataset from the first column of a schema (used by `find_gaps`).
    pub fn from_schema(schema: &Schema) -> Option<Dataset> {
        let first = schema.fields().first()?.name().as_str();
        match first {
            "open_time" => Some(Dataset::Klines),
            "agg_trade_id" => Some(Dataset::AggTrades),
            "trade_id" => Some(Dataset::Trades),
            "time" => Some(Dataset::FundingRate),
            _ => None,
        }
    }
}

/// `timestamp[us, tz=UTC]`, the one time type of every output.
pub fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn f64_field(name: &str) -> Field {
    Field::new(name, DataType::Float64, false)
}

fn i64_field(name: &str) -> Field {
    Field::new(name, DataType::Int64, false)
}

fn ts_field(name: &str) -> Field {
    Field::new(name, ts_type(), false)
}

fn klines_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        ts_field("open_time"),
        f64_field("open"),
        f64_field("high"),
        f64_field("low"),
        f64_field("close"),
        f64_field("volume"),
        ts_field("close_time"),
        f64_field("quote_volume"),
        i64_field("trades"),
        f64_field("taker_buy_base_volume"),
        f64_field("taker_buy_quote_volume"),
    ]))
}

fn agg_trades_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        i64_field("agg_trade_id"),
        f64_field("price"),
        f64_field("quantity"),
        i64_field("first_trade_id"),
        i64_field("last_trade_id"),
        ts_field("time"),
        Field::new("is_buyer_maker", DataType::Boolean, false),
        Field::new("is_best_match", DataType::Boolean, true),
    ]))
}

fn trades_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        i64_field("trade_id"),
        f64_field("price"),
        f64_field("quantity"),
        f64_field("quote_quantity"),
        ts_field("time"),
        Field::new("is_buyer_maker", DataType::Boolean, false),
        Field::new("is_best_match", DataType::Boolean, true),
    ]))
}

fn funding_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        ts_field("time"),
        Field::new("funding_interval_hours", DataType::Int64, true),
        f64_field("funding_rate"),
        Field::new("mark_price", DataType::Float64, true),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_use_utc_microseconds() {
        let s = Dataset::Klines.schema();
        assert_eq!(s.fields().len(), 11);
        assert_eq!(s.field(0).data_type(), &ts_type());
        assert_eq!(Dataset::from_schema(&s), Some(Dataset::Klines));
    }
}
