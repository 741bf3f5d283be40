#![no_main]
//! The TLS reply parser, the judge of a reply against each offer, and the server-flight
//! certificate reader, the DHE ServerKeyExchange reader (bytes from any peer the auditor
//! probes).
use libfuzzer_sys::fuzz_target;
use stackposture::collect::tls::{dhe, hello, suites};

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
    let dhe_offer = suites::dhe_suites(suites::Version::TLS12);
    if let dhe::DheParse::Group { suite, .. } =
        dhe::parse_flight(data, suites::Version::TLS12, &dhe_offer)
    {
        assert!(dhe_offer.contains(&suite));
    }
});
