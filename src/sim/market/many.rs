//! The "many symbols" extension of the catalogue: thousands of small synthetic spot symbols,
//! listed at various dates since 2020 and about a third of them delisted later, so listings
//! page across thousands of folders and keys.

use super::catalog::{d, Market, Symbol};
use super::rng::{key, str_key, unit};

/// `n` small synthetic spot symbols (names like `QAZUSDT`), listed between 2020 and 2025,
/// about a third of them delisted later. Deterministic; never collides with the majors.
pub fn many_symbols(n: usize) -> Vec<Symbol> {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let taken: Vec<String> = super::catalog::default_symbols()
        .into_iter()
        .map(|s| s.base)
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    let mut i = 0u64;
    while out.len() < n {
        i += 1;
        let h = key(&[0x5107, i]);
        let len = 3 + (h % 3) as usize;
        let base: String = (0..len)
            .map(|j| LETTERS[(key(&[h, j as u64]) % 26) as usize] as char)
            .collect();
        if taken.contains(&base) || !seen.insert(base.clone()) {
            continue;
        }
        let price = 10f64.powi(-4 + (unit(h ^ 1) * 7.0) as i32) * (1.0 + 9.0 * unit(h ^ 2));
        let mag = (0..12)
            .rev()
            .find(|&e| price >= 10f64.powi(e - 4))
            .unwrap_or(0)
            - 4;
        let price_dp = (4 - mag).clamp(0, 8) as u32;
        let qty_dp = (8 - price_dp).min(2);
        let listed = d(2020, 1, 1) + (unit(h ^ 3) * 2190.0) as i64;
        let delisted = (unit(h ^ 4) < 0.33).then(|| listed + 60 + (unit(h ^ 5) * 900.0) as i64);
        let name = format!("{base}USDT");
        out.push(Symbol {
            key: key(&[str_key("spot"), str_key(&name)]),
            path_key: str_key(&base),
            pair: name.clone(),
            name,
            market: Market::Spot,
            base,
            quote: "USDT".into(),
            price_dp,
            kline_dp: 8,
            qty_dp,
            contract_size: 0,
            activity: 300.0,
            qty_scale: 2000.0 / price,
            vol: 1.0,
            listed,
            delisted,
            knots: vec![(listed - 30, price), (listed + 4000, price)],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_symbols_are_unique_and_stable() {
        let a = many_symbols(3000);
        let names: std::collections::HashSet<_> = a.iter().map(|s| s.name.clone()).collect();
        assert_eq!(names.len(), 3000);
        assert_eq!(many_symbols(10)[7].name, a[7].name);
        assert!(a.iter().filter(|s| s.delisted.is_some()).count() > 500);
    }
}
