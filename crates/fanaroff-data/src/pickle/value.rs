//! Values produced by the pickle machine.

use std::cell::RefCell;
use std::rc::Rc;

use super::numpy::{Dtype, NdArray};

/// A global (`module.name`) that the decoder knows how to interpret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Global {
    /// `numpy.core.multiarray._reconstruct`
    Reconstruct,
    /// `numpy.ndarray`
    NdArrayClass,
    /// `numpy.dtype`
    Dtype,
    /// `numpy.core.multiarray.scalar`
    Scalar,
    /// `numpy.core.numeric._frombuffer`
    FromBuffer,
    /// `_codecs.encode`
    CodecsEncode,
}

impl Global {
    /// Looks up a `module`/`name` pair; `None` for anything not whitelisted.
    pub(crate) fn lookup(module: &str, name: &str) -> Option<Global> {
        let numpy_core = |m: &str, sub: &str| {
            m == format!("numpy.core.{sub}") || m == format!("numpy._core.{sub}")
        };
        match name {
            "_reconstruct" if numpy_core(module, "multiarray") => Some(Global::Reconstruct),
            "scalar" if numpy_core(module, "multiarray") => Some(Global::Scalar),
            "_frombuffer" if numpy_core(module, "numeric") => Some(Global::FromBuffer),
            "ndarray" if module == "numpy" => Some(Global::NdArrayClass),
            "dtype" if module == "numpy" => Some(Global::Dtype),
            "encode" if module == "_codecs" => Some(Global::CodecsEncode),
            _ => None,
        }
    }
}

/// A mutable Python container with its nesting depth kept up to date on
/// insertion, so that depth checks never walk (possibly cyclic) structures.
#[derive(Debug, Default)]
pub(crate) struct Container<T> {
    pub(crate) items: Vec<T>,
    pub(crate) depth: usize,
}

/// A decoded Python object.
///
/// Mutable containers are shared (`Rc<RefCell<…>>`) so that memo references
/// see later `APPENDS`/`SETITEMS`/`BUILD`, as in Python.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    None,
    Bool(bool),
    Int(i64),
    #[allow(dead_code)] // decoded for completeness; no caller needs floats yet
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Tuple(Rc<[Value]>, usize),
    List(Rc<RefCell<Container<Value>>>),
    Dict(Rc<RefCell<Container<(Value, Value)>>>),
    Global(Global),
    Dtype(Rc<RefCell<Dtype>>),
    Array(Rc<RefCell<NdArray>>),
}

impl Value {
    /// A short Python-like type name for error messages (never recursive).
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(..) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Global(_) => "global",
            Value::Dtype(_) => "numpy.dtype",
            Value::Array(_) => "numpy.ndarray",
        }
    }

    /// The value as text: `str`, or `bytes` read as Latin-1 (Python 2 `str`).
    pub(crate) fn as_text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.to_string()),
            Value::Bytes(b) => Some(b.iter().map(|&c| c as char).collect()),
            _ => None,
        }
    }

    /// The value as an integer (`bool` counts, as in Python).
    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// Looks up a string key in a dict (keys may be `str` or `bytes`); the
    /// last entry wins, as in Python.
    pub(crate) fn dict_get(&self, key: &str) -> Option<Value> {
        match self {
            Value::Dict(d) => d
                .borrow()
                .items
                .iter()
                .rev()
                .find(|(k, _)| k.as_text().as_deref() == Some(key))
                .map(|(_, v)| v.clone()),
            _ => None,
        }
    }

    /// The text keys of a dict, for error messages.
    pub(crate) fn dict_keys(&self) -> Vec<String> {
        match self {
            Value::Dict(d) => d
                .borrow()
                .items
                .iter()
                .map(|(k, _)| {
                    k.as_text()
                        .unwrap_or_else(|| format!("<{}>", k.type_name()))
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The items of a list or tuple.
    /// Container nesting depth (0 for scalars), read in O(1).
    pub(crate) fn depth(&self) -> usize {
        match self {
            Value::Tuple(_, d) => *d,
            Value::List(l) => l.try_borrow().map(|c| c.depth).unwrap_or(1),
            Value::Dict(m) => m.try_borrow().map(|c| c.depth).unwrap_or(1),
            _ => 0,
        }
    }

    /// The items of a list or tuple.
    pub(crate) fn sequence(&self) -> Option<Vec<Value>> {
        match self {
            Value::List(l) => Some(l.borrow().items.clone()),
            Value::Tuple(t, _) => Some(t.to_vec()),
            _ => None,
        }
    }
}
