//! A small `--flag value` parser for the CLI: no dependency, clear errors.

use std::collections::BTreeMap;
use std::str::FromStr;

/// Parsed `--name value` pairs and bare `--switch`es of one subcommand.
pub struct Args {
    values: BTreeMap<String, String>,
    switches: Vec<String>,
    used: std::cell::RefCell<Vec<String>>,
}

impl Args {
    /// Parses `args`; names listed in `switches` take no value.
    pub fn parse(args: &[String], switches: &[&str]) -> Result<Args, String> {
        let (mut values, mut sw) = (BTreeMap::new(), Vec::new());
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let name = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument `{a}` (options look like --name value)"))?;
            if let Some((k, v)) = name.split_once('=') {
                values.insert(k.to_string(), v.to_string());
            } else if switches.contains(&name) {
                sw.push(name.to_string());
            } else {
                let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
                values.insert(name.to_string(), v.clone());
            }
        }
        Ok(Args { values, switches: sw, used: Default::default() })
    }

    /// Whether `--name` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.used.borrow_mut().push(name.to_string());
        self.switches.iter().any(|s| s == name)
    }

    /// `--name`'s value parsed as T, or `default` when absent.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        Ok(self.opt(name)?.unwrap_or(default))
    }

    /// `--name`'s value parsed as T, if given.
    pub fn opt<T: FromStr>(&self, name: &str) -> Result<Option<T>, String> {
        self.used.borrow_mut().push(name.to_string());
        match self.values.get(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| format!("--{name}: cannot read `{v}`")),
        }
    }

    /// `--name`'s value, which must be given.
    pub fn required<T: FromStr>(&self, name: &str) -> Result<T, String> {
        self.opt(name)?.ok_or_else(|| format!("--{name} is required"))
    }

    /// Fails on any option no `get`/`opt`/`switch` asked for: a typo should not pass silently.
    pub fn finish(&self) -> Result<(), String> {
        let used = self.used.borrow();
        for k in self.values.keys().chain(self.switches.iter()) {
            if !used.contains(k) {
                return Err(format!("unknown option --{k}"));
            }
        }
        Ok(())
    }
}
