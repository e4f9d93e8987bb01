//! The built-in studies (see [`StudySpec`](crate::StudySpec)).

mod prune;
mod train;

pub use prune::PruneStudySpec;
pub use train::TrainStudy;
