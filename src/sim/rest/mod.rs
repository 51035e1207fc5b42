//! The REST APIs: spot `/api/v3/…`, USD-M `/fapi/v1/…`, COIN-M `/dapi/v1/…` — ping, time,
//! exchangeInfo, klines (+ mark/index/premium on futures), aggTrades, trades,
//! historicalTrades, fundingRate. Every request is weighed first (Binance's weights), reported
//! in `X-MBX-USED-WEIGHT-(intervalNum)(intervalLetter)` of the configured window (`-1M` for
//! Binance's minute) and in `exchangeInfo`'s `rateLimits`; over budget → 429, ignoring 429s
//! → 418.
//!
//! Spot times are milliseconds unless the request carries `X-MBX-TIME-UNIT: MICROSECOND`
//! (then params and answers are µs); futures are always milliseconds.

pub mod info;
pub mod mangle;
pub mod params;
pub mod queries;
pub mod rows;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::sim::market::catalog::Market;
use crate::sim::market::data::Data;
use crate::sim::market::mark::PriceKind;
use crate::sim::server::limits::{Limiter, Verdict};
use crate::sim::server::{Reply, Req};

use params::{ApiError, Params};
use queries::Ctx;

/// The market and endpoint of a REST path, if it is one.
pub fn route(path: &str) -> Option<(Market, &str)> {
    if let Some(e) = path.strip_prefix("/api/v3/") {
        Some((Market::Spot, e))
    } else if let Some(e) = path.strip_prefix("/fapi/v1/") {
        Some((Market::Um, e))
    } else {
        path.strip_prefix("/dapi/v1/").map(|e| (Market::Cm, e))
    }
}

/// Binance's request weight of an endpoint.
fn weight(market: Market, endpoint: &str, p: &Params) -> Option<u32> {
    let limit = p
        .get("limit")
        .and_then(|l| l.parse::<u32>().ok())
        .unwrap_or(500);
    let by_limit = match limit {
        0..=99 => 1,
        100..=499 => 2,
        500..=1000 => 5,
        _ => 10,
    };
    let spot = market == Market::Spot;
    Some(match endpoint {
        "ping" | "time" => 1,
        "exchangeInfo" => {
            if spot {
                20
            } else {
                1
            }
        }
        "klines" => {
            if spot {
                2
            } else {
                by_limit
            }
        }
        "markPriceKlines" | "indexPriceKlines" | "premiumIndexKlines" if !spot => by_limit,
        "aggTrades" => {
            if spot {
                4
            } else {
                20
            }
        }
        "trades" => {
            if spot {
                25
            } else {
                5
            }
        }
        "historicalTrades" => {
            if spot {
                25
            } else {
                20
            }
        }
        "fundingRate" if !spot => 1,
        _ => return None,
    })
}

/// A rate-limit window as Binance names it: (`interval`, `intervalNum`, header letter), e.g.
/// 60 s → (`MINUTE`, 1, `M`), 10 s → (`SECOND`, 10, `S`).
pub fn interval_name(window_s: u64) -> (&'static str, u64, char) {
    let w = window_s.max(1);
    if w.is_multiple_of(86_400) {
        ("DAY", w / 86_400, 'D')
    } else if w.is_multiple_of(3600) {
        ("HOUR", w / 3600, 'H')
    } else if w.is_multiple_of(60) {
        ("MINUTE", w / 60, 'M')
    } else {
        ("SECOND", w, 'S')
    }
}

/// The used-weight header of a `window_s` window (`X-MBX-USED-WEIGHT-1M`).
pub fn used_weight_header(window_s: u64) -> String {
    let (_, n, letter) = interval_name(window_s);
    format!("X-MBX-USED-WEIGHT-{n}{letter}")
}

/// Answer a REST request, or `None` when `req` is not a REST path.
pub fn handle(data: &Data, limiter: &Limiter, req: &Req) -> Option<Reply> {
    let (market, endpoint) = route(&req.path)?;
    let params = Params::parse(&req.query);
    let Some(w) = weight(
        market,
        endpoint,
        params.as_ref().unwrap_or(&Params::default()),
    ) else {
        let body = format!(
            "{{\"code\":-5000,\"msg\":\"Path {}, Method {} is invalid\"}}",
            req.path, req.method
        );
        return Some(Reply::new(404, "application/json;charset=UTF-8", body));
    };
    let window_s = limiter.window_s();
    let header = used_weight_header(window_s);
    let used = match limiter.charge(market, w) {
        Verdict::Ok { used } => used,
        Verdict::TooMany { used, retry_after } => {
            let (name, n, _) = interval_name(window_s);
            let msg = format!(
                "Too much request weight used; current limit is {} request weight per {n} {name}. \
                 Please use WebSocket Streams for live updates to avoid polling the API.",
                limiter.budget(market)
            );
            let mut r = ApiError {
                status: 429,
                code: -1003,
                msg,
            }
            .reply();
            r = r
                .with_header("Retry-After", retry_after)
                .with_header(&header, used);
            return Some(r);
        }
        Verdict::Banned { retry_after } => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let msg = format!(
                "Way too much request weight used; IP banned until {}. \
                 Please use WebSocket Streams for live updates to avoid bans.",
                now + retry_after * 1000
            );
            return Some(
                ApiError {
                    status: 418,
                    code: -1003,
                    msg,
                }
                .reply()
                .with_header("Retry-After", retry_after),
            );
        }
    };
    let micro = market == Market::Spot
        && req
            .header("x-mbx-time-unit")
            .is_some_and(|v| v.eq_ignore_ascii_case("MICROSECOND"));
    let ctx = Ctx {
        data,
        market,
        unit: if micro { 1 } else { 1000 },
    };
    let limit = (limiter.budget(market), window_s);
    let body = params.and_then(|p| answer(&ctx, endpoint, &p, limit));
    let reply = match body {
        Ok(json) => Reply::new(200, "application/json;charset=UTF-8", json),
        Err(e) => e.reply(),
    };
    Some(
        reply
            .with_header(&header, used)
            .with_header("X-MBX-USED-WEIGHT", used),
    )
}

/// `limit` = (request weight per window, window seconds), for `exchangeInfo`.
fn answer(ctx: &Ctx, endpoint: &str, p: &Params, limit: (u32, u64)) -> Result<String, ApiError> {
    match endpoint {
        "ping" => Ok("{}".into()),
        "time" => Ok(format!(
            "{{\"serverTime\":{}}}",
            ctx.data.ex.now_us() / 1000
        )),
        "exchangeInfo" => info::exchange_info(ctx, p, limit.0, limit.1),
        "klines" => queries::klines(ctx, p, None),
        "markPriceKlines" => queries::klines(ctx, p, Some(PriceKind::Mark)),
        "indexPriceKlines" => queries::klines(ctx, p, Some(PriceKind::Index)),
        "premiumIndexKlines" => queries::klines(ctx, p, Some(PriceKind::Premium)),
        "aggTrades" => queries::trades(ctx, p, false, false),
        "trades" => queries::trades(ctx, p, true, true),
        "historicalTrades" => queries::trades(ctx, p, true, false),
        _ => queries::funding_rate(ctx, p),
    }
}

#[cfg(test)]
mod tests;
