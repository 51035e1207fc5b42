//! Query parameters and API errors the Binance way: percent-decoded `name=value` pairs,
//! duplicates rejected (-1101), missing mandatory ones (-1102), non-numeric numbers (-1100),
//! each answered as `{"code":…,"msg":"…"}` with status 400.

use crate::sim::server::Reply;

/// A Binance API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: i32,
    pub msg: String,
}

impl ApiError {
    /// A 400 with `code` and `msg`.
    pub fn new(code: i32, msg: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            code,
            msg: msg.into(),
        }
    }

    /// -1121 Invalid symbol.
    pub fn bad_symbol() -> Self {
        ApiError::new(-1121, "Invalid symbol.")
    }

    /// -1130 for a value out of range.
    pub fn invalid(name: &str) -> Self {
        ApiError::new(
            -1130,
            format!("Data sent for parameter '{name}' is not valid."),
        )
    }

    /// The JSON reply.
    pub fn reply(&self) -> Reply {
        let msg = self.msg.replace('\\', "\\\\").replace('"', "\\\"");
        let body = format!("{{\"code\":{},\"msg\":\"{msg}\"}}", self.code);
        Reply::new(self.status, "application/json;charset=UTF-8", body)
    }
}

/// Parsed query parameters.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parse a raw query string.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut v: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|s| !s.is_empty()) {
            let (k, val) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, val) = (decode(k), decode(val));
            if v.iter().any(|(x, _)| *x == k) {
                return Err(ApiError::new(
                    -1101,
                    format!("Duplicate values for parameter '{k}'."),
                ));
            }
            v.push((k, val));
        }
        Ok(Params(v))
    }

    /// A non-empty value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// A mandatory value.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| {
            ApiError::new(
                -1102,
                format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
            )
        })
    }

    /// An optional non-negative integer.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        if v.len() > 20 || !v.bytes().all(|c| c.is_ascii_digit()) {
            return Err(ApiError::new(
                -1100,
                format!("Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."),
            ));
        }
        v.parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::invalid(name))
    }

    /// `limit` with Binance's default and maximum.
    pub fn limit(&self, default: i64, max: i64) -> Result<usize, ApiError> {
        match self.int("limit")?.unwrap_or(default) {
            n if n >= 1 && n <= max => Ok(n as usize),
            _ => Err(ApiError::invalid("limit")),
        }
    }
}

/// Percent-decoding (and `+` as space); a malformed escape is kept as is.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|&c| (c as char).to_digit(16));
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) => out.push(b' '),
            (c, _, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_decode_and_validate() {
        let p = Params::parse("symbol=BTCUSDT&prefix=data%2Fspot%2F&limit=5&x=").unwrap();
        assert_eq!(p.get("prefix"), Some("data/spot/"));
        assert_eq!(p.get("x"), None);
        assert_eq!(p.limit(500, 1000), Ok(5));
        assert_eq!(p.required("interval").unwrap_err().code, -1102);
        assert_eq!(Params::parse("a=1&a=2").unwrap_err().code, -1101);
        assert_eq!(
            Params::parse("startTime=12x")
                .unwrap()
                .int("startTime")
                .unwrap_err()
                .code,
            -1100
        );
        assert_eq!(
            Params::parse("limit=1001")
                .unwrap()
                .limit(500, 1000)
                .unwrap_err()
                .code,
            -1130
        );
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%41%42"), "AB");
    }
}
