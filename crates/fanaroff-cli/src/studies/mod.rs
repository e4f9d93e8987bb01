//! The built-in studies (see [`StudySpec`](crate::StudySpec)).

mod attention;
mod ensemble;
mod map_spread;
mod prune;
mod robustness;
mod spray;
mod spray_maps;
mod train;
mod uncertainty;
mod uncertainty_metrics;
mod uncertainty_predict;
mod uncertainty_sets;

pub use attention::AttentionStudySpec;
pub use ensemble::EnsembleStudy;
pub use map_spread::MapSpreadStudySpec;
pub use prune::PruneStudySpec;
pub use robustness::RobustnessStudySpec;
pub use spray::SprayStudy;
pub use train::TrainStudy;
pub use uncertainty::{LaplaceSpec, UncertaintyStudy};
