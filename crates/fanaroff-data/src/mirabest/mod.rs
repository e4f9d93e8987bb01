//! The MiraBest data set: batch files, releases, label codes, subsets.

mod batch;
mod label;
mod official;
mod release;
mod source;
mod subset;

pub use batch::{BatchesMeta, IMAGE_SIZE, PickleBatch};
pub use label::{FrClass, LabelCode, Morphology};
pub use official::{BASIC, BASIC_2019, FULL, RELEASES, Release};
pub use release::{DOWNLOAD_HINT, MiraBest, ReleaseKind, Splits, md5_hex, verify_md5};
pub use source::SourceName;
pub use subset::Subset;
