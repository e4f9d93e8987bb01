//! The loop's built-in callbacks.

mod best;
mod early_stopping;
mod log;
mod probe;
mod progress;
mod schedule;

pub use best::BestCheckpoint;
pub use early_stopping::EarlyStopping;
pub use log::EpochLog;
pub use probe::Probe;
pub use progress::Progress;
pub use schedule::{LrSchedule, ScheduleConfig};

use crate::error::{Error, Result};

/// Deserialises a callback's saved state, naming the callback on failure.
pub(crate) fn from_state<T: serde::de::DeserializeOwned>(
    name: &str,
    v: serde_json::Value,
) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::Checkpoint {
        path: "state.json".into(),
        msg: format!("state of callback {name}: {e}"),
    })
}

/// Serialises a callback's state (`Null` if it cannot be, which never
/// happens for the plain structs used here).
pub(crate) fn to_state<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
