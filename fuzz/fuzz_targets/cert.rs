#![no_main]
//! Certificate analysis (DER from a peer, or the root CA from the database).
use libfuzzer_sys::fuzz_target;
use stackposture::collect::tls::cert;

fuzz_target!(|data: &[u8]| {
    if let Ok(i) = cert::analyze(data, 1_800_000_000) {
        let _ = cert::name_matches(&i, "ms.example.org");
        let _ = cert::name_matches(&i, "10.0.0.5");
    }
    let _ = cert::issued_by(data, data);
    let _ = cert::pem_certs(&String::from_utf8_lossy(data));
});
