#![no_main]
//! The text parsers of operator and tree files, chosen by the first byte: properties,
//! settings export, facts file, /proc/net/tcp, dpkg status, waivers, HTTP head.
use libfuzzer_sys::fuzz_target;
use stackposture::collect::{export, listeners, packages, properties, tls::probe};
use stackposture::facts::Facts;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match which % 7 {
        0 => {
            let _ = properties::parse(rest);
        }
        1 => {
            let _ = export::parse(&text);
        }
        2 => {
            if let Ok(f) = Facts::from_json(&text) {
                assert_eq!(Facts::from_json(&f.to_json()).ok(), Some(f));
            }
        }
        3 => {
            let _ = listeners::parse(&text);
        }
        4 => {
            let _ = packages::parse_dpkg_status(&text);
        }
        5 => {
            let _ = stackposture::waivers::parse("w.toml", &text, &["CS-TLS-002"]);
        }
        _ => {
            let _ = probe::parse_http_head(rest);
        }
    }
});
