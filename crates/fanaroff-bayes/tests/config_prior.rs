//! The prior of a `VariationalConfig` and its description cannot disagree.

use fanaroff_bayes::{LaplacePrior, PriorSpec, VariationalConfig};
use std::sync::Arc;

fn name_of(spec: PriorSpec) -> String {
    spec.build().unwrap().name()
}

#[test]
fn the_prior_is_always_the_one_its_spec_describes() {
    let d = VariationalConfig::default();
    assert_eq!(d.spec_of_prior(), Some(PriorSpec::default()));
    assert_eq!(d.prior().unwrap().name(), name_of(PriorSpec::default()));

    let g = PriorSpec::Gaussian { s: 0.1 };
    let c = d.prior_spec(g);
    assert_eq!(c.spec_of_prior(), Some(g));
    assert_eq!(c.prior().unwrap().name(), name_of(g));

    // a custom prior has no description, so it cannot be written out
    let c = c.custom_prior(Arc::new(LaplacePrior::new(2.0).unwrap()));
    assert_eq!(c.spec_of_prior(), None);
    assert_eq!(
        c.prior().unwrap().name(),
        name_of(PriorSpec::Laplace { b: 2.0 })
    );
    assert!(serde_json::to_string(&c).is_err());

    // an invalid spec does not leave the previous (custom) prior in place
    let bad = PriorSpec::Gaussian { s: -1.0 };
    let c = c.prior_spec(bad);
    assert_eq!(c.spec_of_prior(), Some(bad));
    let e = c.prior().unwrap_err().to_string();
    assert!(e.contains("Gaussian") && e.contains("-1"), "{e}");
    assert!(c.clone().check().is_err());

    // and a valid one afterwards repairs both
    let c = c.prior_spec(g);
    assert_eq!(c.prior().unwrap().name(), name_of(g));
    assert!(c.check().is_ok());
}

#[test]
fn a_prior_read_from_a_file_is_built_from_its_text() {
    let c: VariationalConfig =
        serde_json::from_str(r#"{"prior": "gmm:0.75,1,9e-4", "estimator": "Flipout"}"#).unwrap();
    let gmm = PriorSpec::ScaleMixture {
        pi: 0.75,
        s1: 1.0,
        s2: 9e-4,
    };
    assert_eq!(c.spec_of_prior(), Some(gmm));
    assert_eq!(c.prior().unwrap().name(), name_of(gmm));
    let text = serde_json::to_string(&c).unwrap();
    let back: VariationalConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(back.spec_of_prior(), Some(gmm));
}
