//! The OpenStack collectors: service configuration (oslo.config INI, api-paste.ini,
//! Horizon's local_settings.py, policy.json), file ownership and modes, and the
//! installed release, for the services of the OpenStack Security Guide's checklists.
//!
//! Facts (see docs/facts.md):
//! * `os.service.<svc>`: `{dir}` when the service's configuration directory exists
//!   under `--root` (platform detection), absent otherwise.
//! * `os.file.<svc>.<name>`: like `file.*` (`stat -L`: links followed inside the tree);
//!   `<name>` is the file name with non-alphanumerics as `_`, `dir` for the directory.
//! * `os.ini.<conf>.<section>.<option>`: the value oslo.config would read (last
//!   occurrence; group names folded as oslo.config folds them), for the options in
//!   [`INI_OPTIONS`] only, so no password or connection string ever becomes a fact.
//! * `os.paste.<conf>.sections` (list) and `os.paste.<conf>.pipeline.<name>` (list of
//!   the pipeline's elements).
//! * `os.horizon.setting.<NAME>`: literal values of [`HORIZON_SETTINGS`].
//! * `os.policy.glance.<rule>`: rules of /etc/glance/policy.json.
//! * `os.release.<svc>`: `{series, ordinal, package, version}` from the packages.
//! * `os.manual.<item>`: never a value: what needs a manual test, and how.

mod collect;
pub mod endpoints;
pub mod ini;
pub mod pysettings;
mod pytokens;
pub mod release;

pub use collect::collect;
pub use endpoints::tls_endpoints;

/// One service's configuration directory, owner rule and checklist files.
pub struct Service {
    pub id: &'static str,
    pub dir: &'static str,
    pub files: &'static [&'static str],
    /// oslo.config files: (logical name, file name in `dir`).
    pub confs: &'static [(&'static str, &'static str)],
    /// api-paste files: (logical name, file name in `dir`).
    pub pastes: &'static [(&'static str, &'static str)],
}

pub const SERVICES: &[Service] = &[
    Service {
        id: "keystone",
        dir: "/etc/keystone",
        files: &[
            "keystone.conf",
            "keystone-paste.ini",
            "policy.json",
            "logging.conf",
            "ssl/certs/signing_cert.pem",
            "ssl/private/signing_key.pem",
            "ssl/certs/ca.pem",
        ],
        confs: &[("keystone_conf", "keystone.conf")],
        pastes: &[("keystone_paste", "keystone-paste.ini")],
    },
    Service {
        id: "horizon",
        dir: "/etc/openstack-dashboard",
        files: &["local_settings.py"],
        confs: &[],
        pastes: &[],
    },
    Service {
        id: "nova",
        dir: "/etc/nova",
        files: &["nova.conf", "api-paste.ini", "policy.json", "rootwrap.conf"],
        confs: &[("nova_conf", "nova.conf")],
        pastes: &[],
    },
    Service {
        id: "cinder",
        dir: "/etc/cinder",
        files: &[
            "cinder.conf",
            "api-paste.ini",
            "policy.json",
            "rootwrap.conf",
        ],
        confs: &[("cinder_conf", "cinder.conf")],
        pastes: &[],
    },
    Service {
        id: "glance",
        dir: "/etc/glance",
        files: &[
            "glance-api-paste.ini",
            "glance-api.conf",
            "glance-cache.conf",
            "glance-manage.conf",
            "glance-registry-paste.ini",
            "glance-registry.conf",
            "glance-scrubber.conf",
            "glance-swift-store.conf",
            "policy.json",
            "schema-image.json",
            "schema.json",
        ],
        confs: &[
            ("glance_api_conf", "glance-api.conf"),
            ("glance_registry_conf", "glance-registry.conf"),
        ],
        pastes: &[],
    },
    Service {
        id: "manila",
        dir: "/etc/manila",
        files: &[
            "manila.conf",
            "api-paste.ini",
            "policy.json",
            "rootwrap.conf",
        ],
        confs: &[("manila_conf", "manila.conf")],
        pastes: &[],
    },
    Service {
        id: "neutron",
        dir: "/etc/neutron",
        files: &[
            "neutron.conf",
            "api-paste.ini",
            "policy.json",
            "rootwrap.conf",
        ],
        confs: &[("neutron_conf", "neutron.conf")],
        pastes: &[],
    },
    Service {
        id: "barbican",
        dir: "/etc/barbican",
        files: &["barbican.conf", "barbican-api-paste.ini", "policy.json"],
        confs: &[("barbican_conf", "barbican.conf")],
        pastes: &[("barbican_api_paste", "barbican-api-paste.ini")],
    },
];

/// The options read from the oslo.config files: (conf, section, option). Nothing else
/// becomes a fact (the files hold passwords and connection strings).
pub const INI_OPTIONS: &[(&str, &str, &str)] = &[
    ("keystone_conf", "DEFAULT", "admin_token"),
    ("keystone_conf", "DEFAULT", "insecure_debug"),
    ("keystone_conf", "DEFAULT", "max_request_body_size"),
    ("keystone_conf", "oslo_middleware", "max_request_body_size"),
    ("keystone_conf", "token", "provider"),
    ("nova_conf", "DEFAULT", "auth_strategy"),
    ("nova_conf", "api", "auth_strategy"),
    ("nova_conf", "keystone_authtoken", "www_authenticate_uri"),
    ("nova_conf", "keystone_authtoken", "insecure"),
    ("nova_conf", "glance", "api_insecure"),
    ("nova_conf", "glance", "api_servers"),
    ("nova_conf", "key_manager", "backend"),
    ("cinder_conf", "DEFAULT", "auth_strategy"),
    ("cinder_conf", "keystone_authtoken", "www_authenticate_uri"),
    ("cinder_conf", "keystone_authtoken", "insecure"),
    ("cinder_conf", "DEFAULT", "nova_api_insecure"),
    ("cinder_conf", "DEFAULT", "glance_api_insecure"),
    ("cinder_conf", "DEFAULT", "glance_api_servers"),
    ("cinder_conf", "DEFAULT", "nas_secure_file_permissions"),
    ("cinder_conf", "DEFAULT", "nas_secure_file_operations"),
    ("cinder_conf", "DEFAULT", "osapi_max_request_body_size"),
    ("cinder_conf", "oslo_middleware", "max_request_body_size"),
    ("cinder_conf", "key_manager", "backend"),
    ("glance_api_conf", "DEFAULT", "auth_strategy"),
    ("glance_api_conf", "DEFAULT", "enable_v1_api"),
    (
        "glance_api_conf",
        "keystone_authtoken",
        "www_authenticate_uri",
    ),
    ("glance_api_conf", "keystone_authtoken", "insecure"),
    ("glance_registry_conf", "DEFAULT", "auth_strategy"),
    ("manila_conf", "DEFAULT", "auth_strategy"),
    ("manila_conf", "keystone_authtoken", "www_authenticate_uri"),
    ("manila_conf", "keystone_authtoken", "insecure"),
    ("manila_conf", "DEFAULT", "nova_api_insecure"),
    ("manila_conf", "DEFAULT", "neutron_api_insecure"),
    ("manila_conf", "DEFAULT", "cinder_api_insecure"),
    ("manila_conf", "DEFAULT", "osapi_max_request_body_size"),
    ("manila_conf", "oslo_middleware", "max_request_body_size"),
    ("neutron_conf", "DEFAULT", "auth_strategy"),
    ("neutron_conf", "keystone_authtoken", "www_authenticate_uri"),
    ("neutron_conf", "keystone_authtoken", "insecure"),
    ("neutron_conf", "DEFAULT", "use_ssl"),
    (
        "barbican_conf",
        "keystone_authtoken",
        "www_authenticate_uri",
    ),
    ("barbican_conf", "keystone_authtoken", "insecure"),
];

/// Options oslo.config registers as `BoolOpt`: their facts are JSON booleans, parsed as
/// `oslo_config.types.Boolean` does (`true/1/on/yes`, `false/0/off/no`, any case); any
/// other text makes the service refuse to start, and the fact is an error.
pub const BOOL_OPTIONS: &[&str] = &[
    "insecure",
    "insecure_debug",
    "api_insecure",
    "nova_api_insecure",
    "glance_api_insecure",
    "neutron_api_insecure",
    "cinder_api_insecure",
    "use_ssl",
    "enable_v1_api",
];

/// Options holding a credential: only whether they are set becomes a fact.
pub const SECRET_OPTIONS: &[&str] = &["admin_token"];

/// The Horizon settings read from local_settings.py (never SECRET_KEY).
pub const HORIZON_SETTINGS: &[&str] = &[
    "DEBUG",
    "DISALLOW_IFRAME_EMBED",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "PASSWORD_AUTOCOMPLETE",
    "DISABLE_PASSWORD_REVEAL",
    "ENFORCE_PASSWORD_CHECK",
    "PASSWORD_VALIDATOR",
    "SECURE_PROXY_SSL_HEADER",
];

/// `keystone-paste.ini` -> `keystone_paste_ini`.
pub fn logical(file: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    base.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}
