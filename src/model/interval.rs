//! Kline intervals and their calendar arithmetic, all in UTC microseconds.
//! Weekly candles open on Monday 00:00 UTC, monthly ones on the 1st.

use std::str::FromStr;

use crate::error::Error;

/// Microseconds in one second, minute, hour and day.
pub const SECOND_US: i64 = 1_000_000;
pub const MINUTE_US: i64 = 60 * SECOND_US;
pub const HOUR_US: i64 = 60 * MINUTE_US;
pub const DAY_US: i64 = 24 * HOUR_US;

/// A Binance kline interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// A fixed step in microseconds (1s … 3d, and 1w, whose boundaries fall on Mondays).
    Fixed(i64),
    /// Calendar month.
    Month,
}

/// The interval names Binance uses, in order.
pub const VALID: &[&str] = &[
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1mo",
];

impl FromStr for Interval {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let fixed = |us| Ok(Interval::Fixed(us));
        match s {
            "1s" => fixed(SECOND_US),
            "1m" => fixed(MINUTE_US),
            "3m" => fixed(3 * MINUTE_US),
            "5m" => fixed(5 * MINUTE_US),
            "15m" => fixed(15 * MINUTE_US),
            "30m" => fixed(30 * MINUTE_US),
            "1h" => fixed(HOUR_US),
            "2h" => fixed(2 * HOUR_US),
            "4h" => fixed(4 * HOUR_US),
            "6h" => fixed(6 * HOUR_US),
            "8h" => fixed(8 * HOUR_US),
            "12h" => fixed(12 * HOUR_US),
            "1d" => fixed(DAY_US),
            "3d" => fixed(3 * DAY_US),
            "1w" => fixed(7 * DAY_US),
            "1mo" | "1M" => Ok(Interval::Month),
            other => Err(Error::Invalid(format!(
                "invalid interval {other:?}; valid intervals are {}",
                VALID.join(", ")
            ))),
        }
    }
}

impl Interval {
    /// Open time of the candle after the one opening at `open_us`.
    pub fn next_open(self, open_us: i64) -> i64 {
        match self {
            Interval::Fixed(step) => open_us + step,
            Interval::Month => {
                let (y, m, _) = civil_from_days(open_us.div_euclid(DAY_US));
                let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                days_from_civil(y, m, 1) * DAY_US
            }
        }
    }

    /// Number of whole candles between two open times (`a < b`), or `None` when `b` is not on
    /// this interval's grid as seen from `a`.
    pub fn steps_between(self, a: i64, b: i64) -> Option<i64> {
        match self {
            Interval::Fixed(step) => ((b - a) % step == 0).then_some((b - a) / step),
            Interval::Month => {
                let mut n = 0;
                let mut t = a;
                while t < b {
                    t = self.next_open(t);
                    n += 1;
                }
                (t == b).then_some(n)
            }
        }
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in [-1000, 0, 19358, 20000, 30000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(19358), (2023, 1, 1));
    }

    #[test]
    fn month_steps_follow_the_calendar() {
        let jan = days_from_civil(2024, 1, 1) * DAY_US;
        let feb = Interval::Month.next_open(jan);
        assert_eq!(feb, days_from_civil(2024, 2, 1) * DAY_US);
        let dec = days_from_civil(2023, 12, 1) * DAY_US;
        assert_eq!(Interval::Month.next_open(dec), jan);
        assert_eq!(Interval::Month.steps_between(dec, feb), Some(2));
        assert_eq!(Interval::Month.steps_between(dec, feb + 1), None);
    }

    #[test]
    fn unknown_interval_names_the_valid_set() {
        let err = "2m".parse::<Interval>().unwrap_err().to_string();
        assert!(err.contains("1mo") && err.contains("1s"));
        assert_eq!("1M".parse::<Interval>().unwrap(), Interval::Month);
    }
}
