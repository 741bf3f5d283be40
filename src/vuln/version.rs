//! CloudStack versions (`4.19.1.3`, and the three-part scheme from `24.0.0` on) and
//! affected ranges as the advisory feed writes them.

use std::cmp::Ordering;

/// A CloudStack version: 4.19.1.3, or the coming three-part scheme (24.0.0). Missing
/// trailing parts compare as 0.
#[derive(Debug, Clone)]
pub struct Version(pub Vec<u64>);

impl PartialEq for Version {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Version {}

impl Version {
    /// Parses the leading `N(.N)*` of a version string (`4.19.1.3-SNAPSHOT`,
    /// `4.19.1.3~focal`, `1:4.20.0.0-1` with a dpkg epoch). At least two parts.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let s = match s.split_once(':') {
            Some((epoch, rest)) if epoch.chars().all(|c| c.is_ascii_digit()) => rest,
            _ => s,
        };
        let head: String = s
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let parts: Vec<u64> = head
            .trim_end_matches('.')
            .split('.')
            .map(|p| p.parse::<u64>().ok())
            .collect::<Option<Vec<_>>>()?;
        if parts.len() < 2 || parts.len() > 6 {
            return None;
        }
        Some(Version(parts))
    }
    fn part(&self, i: usize) -> u64 {
        self.0.get(i).copied().unwrap_or(0)
    }
    /// The release line: `4.19` for the 4.x scheme, `24` from the three-part scheme on.
    pub fn line(&self) -> String {
        if self.part(0) >= 24 {
            self.part(0).to_string()
        } else {
            format!("{}.{}", self.part(0), self.part(1))
        }
    }
}

impl Ord for Version {
    fn cmp(&self, o: &Self) -> Ordering {
        let n = self.0.len().max(o.0.len());
        (0..n)
            .map(|i| self.part(i).cmp(&o.part(i)))
            .find(|c| *c != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    }
}
impl PartialOrd for Version {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&s.join("."))
    }
}

/// One affected range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub from: Option<Version>,
    pub to: Option<Version>,
    /// `to` itself is affected.
    pub to_inclusive: bool,
}

impl Range {
    pub fn parse(s: &str) -> Option<Range> {
        let s = s.trim();
        let v = |x: &str| Version::parse(x);
        if let Some(rest) = s.strip_suffix('+') {
            return Some(Range {
                from: Some(v(rest)?),
                to: None,
                to_inclusive: false,
            });
        }
        if let Some(rest) = s.strip_prefix('<') {
            return Some(Range {
                from: None,
                to: Some(v(rest)?),
                to_inclusive: false,
            });
        }
        if let Some((a, b)) = s.split_once('<') {
            return Some(Range {
                from: Some(v(a)?),
                to: Some(v(b)?),
                to_inclusive: false,
            });
        }
        if let Some((a, b)) = s.split_once('-') {
            return Some(Range {
                from: Some(v(a)?),
                to: Some(v(b)?),
                to_inclusive: true,
            });
        }
        let one = v(s)?;
        Some(Range {
            from: Some(one.clone()),
            to: Some(one),
            to_inclusive: true,
        })
    }
    pub fn contains(&self, x: &Version) -> bool {
        if self.from.as_ref().is_some_and(|f| x < f) {
            return false;
        }
        match &self.to {
            None => true,
            Some(t) if self.to_inclusive => x <= t,
            Some(t) => x < t,
        }
    }
}

/// Parses a release line as the feed writes it: `4.22` (the 4.x scheme) or `24` (from
/// 24.0.0 on). At least one part.
pub fn parse_line(s: &str) -> Option<Version> {
    let s = s.trim();
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let parts: Vec<u64> = s
        .split('.')
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<Vec<_>>>()?;
    if parts.len() > 2 {
        return None;
    }
    Some(Version(parts))
}

/// A release line of the feed, or a range of them (`4.0-4.18`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSpec {
    pub from: Version,
    pub to: Version,
}

impl LineSpec {
    pub fn parse(s: &str) -> Option<LineSpec> {
        match s.split_once('-') {
            Some((a, b)) => {
                let (from, to) = (parse_line(a)?, parse_line(b)?);
                (from <= to).then_some(LineSpec { from, to })
            }
            None => {
                let one = parse_line(s)?;
                Some(LineSpec {
                    from: one.clone(),
                    to: one,
                })
            }
        }
    }
    /// Whether the installed version's line is in this spec.
    pub fn contains(&self, v: &Version) -> bool {
        let line = parse_line(&v.line()).unwrap_or_else(|| v.clone());
        self.from <= line && line <= self.to
    }
}

impl std::fmt::Display for LineSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}
