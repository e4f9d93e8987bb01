//! Strict command-line flags for the examples: every flag takes a value,
//! an unknown flag or a value that does not parse is an error.

use std::str::FromStr;

/// `--name value` pairs from the command line, checked against the flags an
/// example knows.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pairs: Vec<(String, String)>,
    switches: Vec<String>,
}

impl Flags {
    /// Parses `argv` (without the program name). `--help` / `-h` prints
    /// `help` and exits.
    ///
    /// # Errors
    /// A flag not in `known`, or a flag without a value.
    pub fn parse(argv: &[String], known: &[&str], help: &str) -> Result<Self, String> {
        Self::parse_with_switches(argv, known, &[], help)
    }

    /// As [`parse`](Self::parse), with `switches`: flags without a value
    /// (`--resume`), read with [`switch`](Self::switch).
    ///
    /// # Errors
    /// A flag in neither list, or a valued flag without a value.
    pub fn parse_with_switches(
        argv: &[String],
        known: &[&str],
        switches: &[&str],
        help: &str,
    ) -> Result<Self, String> {
        let mut f = Flags::default();
        let mut it = argv.iter();
        while let Some(flag) = it.next() {
            if flag == "--help" || flag == "-h" {
                println!("{help}");
                std::process::exit(0);
            }
            if switches.contains(&flag.as_str()) {
                f.switches.push(flag.clone());
                continue;
            }
            if !known.contains(&flag.as_str()) {
                return Err(format!("unknown option {flag} (see --help)"));
            }
            let v = it.next().ok_or(format!("{flag} needs a value"))?;
            f.pairs.push((flag.clone(), v.clone()));
        }
        Ok(f)
    }

    /// Whether the switch `name` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// The last value of `name`, parsed, if given.
    ///
    /// # Errors
    /// A value that does not parse.
    pub fn opt<T: FromStr>(&self, name: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        match self.pairs.iter().rev().find(|(n, _)| n == name) {
            None => Ok(None),
            Some((_, v)) => v.parse().map(Some).map_err(|e| format!("{name} {v}: {e}")),
        }
    }

    /// The value of `name`, parsed, or `default`.
    ///
    /// # Errors
    /// A value that does not parse.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        Ok(self.opt(name)?.unwrap_or(default))
    }

    /// Every value of a repeatable flag, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A comma-separated list (`--fractions 0,0.5`), each item parsed.
    ///
    /// # Errors
    /// An item that does not parse.
    pub fn list<T: FromStr>(&self, name: &str) -> Result<Option<Vec<T>>, String>
    where
        T::Err: std::fmt::Display,
    {
        let Some(v) = self.opt::<String>(name)? else {
            return Ok(None);
        };
        v.split(',')
            .map(|s| s.trim().parse().map_err(|e| format!("{name} {v}: {e}")))
            .collect::<Result<Vec<T>, String>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn unknown_flags_and_bad_values_are_errors() {
        let known = ["--epochs", "--model"];
        assert!(Flags::parse(&args(&["--epocs", "3"]), &known, "").is_err());
        assert!(Flags::parse(&args(&["--epochs"]), &known, "").is_err());
        let f = Flags::parse(
            &args(&["--epochs", "x", "--model", "a", "--model", "b"]),
            &known,
            "",
        )
        .unwrap();
        assert!(f.get::<usize>("--epochs", 1).is_err());
        assert_eq!(f.all("--model"), ["a", "b"]);
        let f = Flags::parse(&args(&["--epochs", "7"]), &known, "").unwrap();
        assert_eq!(f.get("--epochs", 1usize).unwrap(), 7);
        assert_eq!(f.get("--model", "d".to_string()).unwrap(), "d");
        let f = Flags::parse(&args(&["--model", "0,0.5"]), &known, "").unwrap();
        assert_eq!(f.list::<f64>("--model").unwrap(), Some(vec![0.0, 0.5]));
        let f = Flags::parse_with_switches(
            &args(&["--resume", "--epochs", "2"]),
            &known,
            &["--resume"],
            "",
        )
        .unwrap();
        assert!(f.switch("--resume") && !f.switch("--other"));
        assert!(Flags::parse(&args(&["--resume"]), &known, "").is_err());
    }
}
