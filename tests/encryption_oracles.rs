//! ENC() decryption proven against the real encryptors: Jasypt (Debian's
//! libjasypt-java, the library CloudStack's V1 wraps) and Google Tink (PyPI `tink`,
//! the library CloudStack's V2 wraps, with a RAW-prefix AES-GCM keyset built from
//! SHA-256 of the key string). Also: ENC() values in db.properties decrypted with the
//! key from `file`, `env` and `--key-file`, and `web` reported as not reproducible.

mod common;

use stackposture::collect::database::{DbOptions, SecretString};
use stackposture::collect::encryption::{decrypt, decrypt_v1, decrypt_v2, Version};
use stackposture::collect::{self, CollectOptions};
use std::process::Command;

const TINK_PY: &str = r#"
import sys, hashlib, base64, tink
from tink import aead, secret_key_access
from tink.proto import tink_pb2, aes_gcm_pb2
aead.register()
key, pt = sys.argv[1], sys.argv[2]
k = aes_gcm_pb2.AesGcmKey(version=0, key_value=hashlib.sha256(key.encode()).digest())
ks = tink_pb2.Keyset(primary_key_id=1)
e = ks.key.add()
e.key_data.type_url = 'type.googleapis.com/google.crypto.tink.AesGcmKey'
e.key_data.value = k.SerializeToString()
e.key_data.key_material_type = tink_pb2.KeyData.SYMMETRIC
e.status = tink_pb2.ENABLED
e.key_id = 1
e.output_prefix_type = tink_pb2.RAW
h = tink.proto_keyset_format.parse(ks.SerializeToString(), secret_key_access.TOKEN)
print(base64.b64encode(h.primitive(aead.Aead).encrypt(pt.encode(), b'')).decode())
"#;

fn tink_encrypt(key: &str, pt: &str) -> Option<String> {
    let python = common::python_with("tink")?;
    let o = Command::new(python)
        .args(["-c", TINK_PY, key, pt])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(String::from_utf8(o.stdout).unwrap().trim().to_string())
}

const CASES: &[(&str, &str)] = &[
    ("password", "cloud"),
    ("k3y-ascii-only", "Sörensen-pw ✓"),
    ("a", "a 37-character plaintext, with spaces!"),
    ("management-key-0123456789", "db-encryption-secret"),
];

#[test]
fn v1_matches_jasypt() {
    for (key, pt) in CASES {
        let Some(ct) = common::cipher::jasypt_v1(key, pt) else {
            return;
        };
        assert_eq!(decrypt_v1(key, &ct).unwrap().expose(), *pt, "{key}");
        // No pinned version: V2 fails, V1 answers (CloudStackEncryptor order).
        let (p, v) = decrypt(key, &ct, None).unwrap();
        assert_eq!((p.expose(), v), (*pt, Version::V1));
        assert!(decrypt_v1("wrong-key", &ct).is_err());
    }
}

#[test]
fn v2_matches_tink() {
    for (key, pt) in CASES {
        let Some(ct) = tink_encrypt(key, pt) else {
            return;
        };
        assert_eq!(decrypt_v2(key, &ct).unwrap().expose(), *pt, "{key}");
        let (p, v) = decrypt(key, &ct, None).unwrap();
        assert_eq!((p.expose(), v), (*pt, Version::V2));
        assert!(decrypt(key, &ct, Some(Version::V1)).is_err());
        assert!(decrypt_v2("wrong-key", &ct).is_err());
    }
    // V2 keys may be any UTF-8 (SHA-256 of the UTF-8 bytes).
    let Some(ct) = tink_encrypt("k3y-with-ümlaut", "x") else {
        return;
    };
    assert_eq!(decrypt_v2("k3y-with-ümlaut", &ct).unwrap().expose(), "x");
}

fn root_with(props: &str, key_file: Option<&str>) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/cloudstack/management");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("db.properties"), props).unwrap();
    if let Some(k) = key_file {
        std::fs::write(d.join("key"), k).unwrap();
    }
    t
}

fn secret_fact(c: &collect::Collected, key: &str) -> serde_json::Value {
    c.facts.get(key).unwrap().into_owned().value.unwrap()
}

fn no_db(
    root: &std::path::Path,
    env_key: Option<&str>,
    key_file: Option<std::path::PathBuf>,
) -> CollectOptions {
    CollectOptions {
        root: root.to_path_buf(),
        db: DbOptions {
            disabled: true,
            cloud_secret_key: env_key.map(|k| SecretString::new(k.into())),
            key_file,
            ..DbOptions::default()
        },
        ..CollectOptions::default()
    }
}

#[test]
fn properties_enc_values_with_each_key_source() {
    let Some(v1) = common::cipher::jasypt_v1("password", "cloud") else {
        return;
    };
    let Some(v2) = tink_encrypt("password", "S3cure-DB-key") else {
        return;
    };
    let props = |t: &str| {
        format!("db.cloud.encryption.type={t}\ndb.cloud.password=ENC({v1})\ndb.cloud.encrypt.secret=ENC({v2})\n")
    };
    // file: /etc/cloudstack/management/key (the installer default key `password`, H2).
    let t = root_with(&props("file"), Some("password\n"));
    let c = collect::collect(&no_db(t.path(), None, None));
    let pw = secret_fact(&c, "secret.db.db.cloud.password");
    assert_eq!(
        (pw["decrypted"].as_str(), pw["known_default"].as_bool()),
        (Some("V1"), Some(true)),
        "{pw}"
    );
    let sk = secret_fact(&c, "secret.db.db.cloud.encrypt.secret");
    assert_eq!(
        (sk["decrypted"].as_str(), sk["known_default"].as_bool()),
        (Some("V2"), Some(false)),
        "{sk}"
    );
    let json = c.facts.to_json();
    assert!(!json.contains("S3cure-DB-key"), "{json}");
    // env: CLOUD_SECRET_KEY.
    let t = root_with(&props("env"), None);
    let c = collect::collect(&no_db(t.path(), Some("password"), None));
    assert_eq!(
        secret_fact(&c, "secret.db.db.cloud.password")["known_default"],
        true
    );
    let c = collect::collect(&no_db(t.path(), None, None));
    let pw = secret_fact(&c, "secret.db.db.cloud.password");
    assert!(
        pw.get("known_default").is_none()
            && pw["not_decrypted"]
                .as_str()
                .unwrap()
                .contains("CLOUD_SECRET_KEY"),
        "{pw}"
    );
    // web: not reproducible offline, unless --key-file.
    let t = root_with(&props("web"), None);
    let c = collect::collect(&no_db(t.path(), None, None));
    let pw = secret_fact(&c, "secret.db.db.cloud.password");
    assert!(
        pw["not_decrypted"].as_str().unwrap().contains("8097"),
        "{pw}"
    );
    let kf = t.path().join("ms.key");
    std::fs::write(&kf, "password\n").unwrap();
    let c = collect::collect(&no_db(t.path(), None, Some(kf)));
    assert_eq!(
        secret_fact(&c, "secret.db.db.cloud.password")["decrypted"],
        "V1"
    );
    // A wrong key: not decrypted, says so, no guess.
    let t = root_with(&props("file"), Some("not-the-key\n"));
    let c = collect::collect(&no_db(t.path(), None, None));
    let pw = secret_fact(&c, "secret.db.db.cloud.password");
    assert!(pw.get("known_default").is_none(), "{pw}");
}
