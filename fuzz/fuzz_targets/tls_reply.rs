#![no_main]
//! The TLS reply parser, the judge of a reply against each offer, and the server-flight
//! certificate reader (bytes from any peer the auditor probes).
use libfuzzer_sys::fuzz_target;
use stackposture::collect::tls::{hello, suites};

fuzz_target!(|data: &[u8]| {
    if let hello::Parse::Done(reply) = hello::parse_reply(data) {
        for v in [
            suites::Version::SSL3,
            suites::Version::TLS10,
            suites::Version::TLS11,
            suites::Version::TLS12,
        ] {
            let offer = suites::suites_for_version(v);
            if let Ok(hello::Verdict::Accepted { suite }) = hello::judge(&reply, v, &offer) {
                assert!(offer.contains(&suite));
            }
        }
    }
    if let hello::Parse::NeedMore(n) = hello::parse_reply(data) {
        assert!(n > 0);
    }
    let _ = hello::parse_flight_certs(data);
});
