//! The installed OpenStack release of each service, from its package version.
//!
//! Each service numbers its releases by major version, one major per series since
//! Queens, so `series ordinal = major + offset` (Rocky is the 18th series). The table
//! covers Queens (17) through 2025.2 Flamingo (32), from the per-series release pages at
//! <https://releases.openstack.org/> (e.g. nova 18.0.0 = Rocky, keystone 14.0.0 = Rocky,
//! cinder 13.0.0, glance 17.0.0, neutron 13.0.0, manila 7.0.0, barbican 7.0.0); a major
//! outside it is reported as unsupported rather than guessed. The version comes from the
//! dpkg database, else from the Python distribution metadata the service installed
//! (`<project>-<version>.dist-info` / `.egg-info` under the system's Python library
//! directories), which also covers EL/RDO hosts and source installs; the RPM database is
//! not read.

/// Series names by ordinal (17 = Queens ... 32 = 2025.2 Flamingo).
pub const SERIES: &[(u32, &str)] = &[
    (17, "queens"),
    (18, "rocky"),
    (19, "stein"),
    (20, "train"),
    (21, "ussuri"),
    (22, "victoria"),
    (23, "wallaby"),
    (24, "xena"),
    (25, "yoga"),
    (26, "zed"),
    (27, "2023.1"),
    (28, "2023.2"),
    (29, "2024.1"),
    (30, "2024.2"),
    (31, "2025.1"),
    (32, "2025.2"),
];

/// (service, packages that carry its version (Debian/Ubuntu, then RDO), major offset).
pub const PACKAGES: &[(&str, &[&str], i64)] = &[
    (
        "keystone",
        &["keystone", "python3-keystone", "openstack-keystone"],
        4,
    ),
    (
        "nova",
        &["nova-common", "python3-nova", "openstack-nova-common"],
        0,
    ),
    (
        "cinder",
        &["cinder-common", "python3-cinder", "openstack-cinder"],
        5,
    ),
    (
        "glance",
        &["glance-common", "python3-glance", "openstack-glance"],
        1,
    ),
    (
        "neutron",
        &[
            "neutron-common",
            "python3-neutron",
            "openstack-neutron-common",
        ],
        5,
    ),
    (
        "manila",
        &["manila-common", "python3-manila", "openstack-manila"],
        11,
    ),
    (
        "barbican",
        &[
            "barbican-common",
            "python3-barbican",
            "openstack-barbican-common",
        ],
        11,
    ),
];

/// The upstream major of a Debian/RPM version (`2:27.1.0-0ubuntu1` -> 27).
pub fn major(version: &str) -> Option<i64> {
    let v = version.split_once(':').map_or(version, |(_, r)| r);
    let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A Python distribution's metadata directory name -> (project, version):
/// `nova-27.1.0.dist-info` -> ("nova", "27.1.0"), `nova-18.0.0-py3.6.egg-info` ->
/// ("nova", "18.0.0"). Project names are lower-cased with `_` as `-`.
pub fn dist_info(name: &str) -> Option<(String, String)> {
    let stem = name
        .strip_suffix(".dist-info")
        .or_else(|| name.strip_suffix(".egg-info"))?;
    let cut = stem
        .char_indices()
        .find(|(i, c)| *c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()))?
        .0;
    let project = stem[..cut].to_ascii_lowercase().replace('_', "-");
    let version = stem[cut + 1..].split('-').next()?.to_string();
    Some((project, version))
}

/// The Python project whose version is the service's release.
pub fn python_project(service: &str) -> &str {
    service
}

/// `(ordinal, series)` of a service's package version, or why not.
pub fn series(service: &str, version: &str) -> Result<(u32, &'static str), String> {
    let (_, _, off) = PACKAGES
        .iter()
        .find(|(s, _, _)| *s == service)
        .ok_or_else(|| format!("no release table for {service}"))?;
    let m = major(version).ok_or_else(|| format!("version {version:?} has no major number"))?;
    let ord = u32::try_from(m + off).map_err(|_| format!("version {version:?} out of range"))?;
    SERIES
        .iter()
        .find(|(o, _)| *o == ord)
        .map(|(o, s)| (*o, *s))
        .ok_or_else(|| {
            format!("{service} {version}: major {m} is outside the known series (Queens to 2025.2)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors_map_to_series() {
        assert_eq!(series("nova", "2:18.3.0-0ubuntu1"), Ok((18, "rocky")));
        assert_eq!(series("keystone", "2:14.2.0-0ubuntu1"), Ok((18, "rocky")));
        assert_eq!(series("cinder", "2:15.0.0-1"), Ok((20, "train")));
        assert_eq!(series("glance", "2:20.0.1-0ubuntu1"), Ok((21, "ussuri")));
        assert_eq!(series("manila", "1:7.4.0-1.el7"), Ok((18, "rocky")));
        assert_eq!(series("nova", "31.0.0"), Ok((31, "2025.1")));
        assert!(series("nova", "12.0.0").is_err());
        assert!(series("nova", "abc").is_err());
        assert!(series("swift", "2.0").is_err());
        assert_eq!(
            dist_info("nova-27.1.0.dist-info"),
            Some(("nova".into(), "27.1.0".into()))
        );
        assert_eq!(
            dist_info("python_keystone-14.0.0-py3.6.egg-info"),
            Some(("python-keystone".into(), "14.0.0".into()))
        );
        assert_eq!(
            dist_info("oslo.config-9.0.0.dist-info"),
            Some(("oslo.config".into(), "9.0.0".into()))
        );
        assert_eq!(dist_info("nova"), None);
        assert_eq!(dist_info("nova-abc.dist-info"), None);
    }
}
