//! The pickle virtual machine: a stack, a memo and a mark stack.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::numpy::{Dtype, NdArray, parse_shape};
use super::value::{Container, Global, Value};

/// Why decoding stopped, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PickleError {
    /// Offset of the opcode being executed.
    pub(crate) offset: usize,
    /// Human-readable reason.
    pub(crate) reason: String,
}

/// Deepest container nesting accepted (guards against stack exhaustion).
const MAX_DEPTH: usize = 64;

/// Decodes a whole pickle and returns the object left by `STOP`.
///
/// # Errors
/// Truncated input, unknown opcodes, unsupported globals, inconsistent
/// arrays, or trailing garbage after `STOP`.
pub(crate) fn load(bytes: &[u8]) -> Result<Value, PickleError> {
    let mut m = Machine {
        input: bytes,
        pos: 0,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
    };
    let mut op_start = 0;
    match m.run(&mut op_start) {
        Ok(v) => Ok(v),
        Err(reason) => Err(PickleError {
            offset: op_start,
            reason,
        }),
    }
}

struct Machine<'a> {
    input: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
}

type Step<T> = Result<T, String>;

impl<'a> Machine<'a> {
    fn take(&mut self, n: usize) -> Step<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.input.len())
            .ok_or_else(|| {
                format!(
                    "unexpected end of data (needed {n} more bytes, {} left)",
                    self.input.len() - self.pos
                )
            })?;
        let input: &'a [u8] = self.input;
        let s = &input[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Step<u8> {
        Ok(self.take(1)?[0])
    }

    fn uint_le(&mut self, n: usize) -> Step<u64> {
        let b = self.take(n)?;
        Ok(b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    fn len_le(&mut self, n: usize) -> Step<usize> {
        let v = self.uint_le(n)?;
        let len = usize::try_from(v).map_err(|_| "length too large".to_string())?;
        if len > self.input.len() - self.pos {
            return Err(format!(
                "length {len} exceeds the {} bytes left",
                self.input.len() - self.pos
            ));
        }
        Ok(len)
    }

    fn line(&mut self) -> Step<String> {
        let rest = &self.input[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("unterminated text line")?;
        let s = std::str::from_utf8(&rest[..n])
            .map_err(|_| "text line is not UTF-8".to_string())?
            .to_string();
        self.pos += n + 1;
        Ok(s)
    }

    fn pop(&mut self) -> Step<Value> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err("stack underflow".into());
        }
        self.stack.pop().ok_or_else(|| "stack underflow".into())
    }

    fn top(&self) -> Step<&Value> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err("stack underflow".into());
        }
        self.stack.last().ok_or_else(|| "stack underflow".into())
    }

    fn pop_mark(&mut self) -> Step<Vec<Value>> {
        let m = self.marks.pop().ok_or("no MARK on the stack")?;
        Ok(self.stack.split_off(m))
    }

    fn push(&mut self, v: Value) -> Step<()> {
        if self.stack.len() > 1_000_000 {
            return Err("stack too deep".into());
        }
        self.stack.push(v);
        Ok(())
    }

    fn memo_put(&mut self, key: u64) -> Step<()> {
        let v = self.top()?.clone();
        if self.memo.len() > 10_000_000 {
            return Err("memo too large".into());
        }
        self.memo.insert(key, v);
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> Step<()> {
        let v = self
            .memo
            .get(&key)
            .cloned()
            .ok_or_else(|| format!("memo key {key} not defined"))?;
        self.push(v)
    }

    fn run(&mut self, op_start: &mut usize) -> Step<Value> {
        loop {
            *op_start = self.pos;
            let op = self.byte()?;
            if let Some(v) = self.step(op)? {
                return Ok(v);
            }
        }
    }

    /// Executes one opcode; `Some` is the result of `STOP`.
    fn step(&mut self, op: u8) -> Step<Option<Value>> {
        match op {
            b'.' => return self.stop().map(Some),
            0x80 | 0x95 | b'(' | b'0' | b'1' | b'2' => self.control(op)?,
            b'N' | 0x88 | 0x89 | b'K' | b'M' | b'J' | 0x8a | b'G' => self.scalar(op)?,
            b'X' | 0x8c | 0x8d | b'U' | b'T' | b'C' | b'B' | 0x8e | 0x96 => self.text(op)?,
            b')' | 0x85..=0x87 | b't' | b']' | b'l' | b'a' | b'e' => self.sequence(op)?,
            b'}' | b'd' | b's' | b'u' => self.mapping(op)?,
            b'c' | 0x93 | b'R' | b'b' => self.object(op)?,
            b'q' | b'r' | 0x94 | b'h' | b'j' => self.memo_op(op)?,
            other => return Err(format!("unsupported opcode 0x{other:02x}")),
        }
        Ok(None)
    }

    /// `STOP`: the one value left, with nothing else on the stack or after it.
    fn stop(&mut self) -> Step<Value> {
        let v = self.pop()?;
        if !self.stack.is_empty() || !self.marks.is_empty() {
            return Err("STOP with items left on the stack".into());
        }
        if self.pos != self.input.len() {
            return Err(format!(
                "{} bytes of trailing data after STOP",
                self.input.len() - self.pos
            ));
        }
        Ok(v)
    }

    /// PROTO, FRAME, MARK, POP, POP_MARK, DUP.
    fn control(&mut self, op: u8) -> Step<()> {
        match op {
            0x80 => {
                let proto = self.byte()?;
                if proto > 5 {
                    return Err(format!("unsupported pickle protocol {proto}"));
                }
            }
            // FRAME: an 8-byte length hint; frames are transparent here.
            0x95 => {
                self.take(8)?;
            }
            b'(' => {
                if self.marks.len() > MAX_DEPTH * 4 {
                    return Err("too many nested MARKs".into());
                }
                self.marks.push(self.stack.len());
            }
            b'0' => {
                self.pop()?;
            }
            b'1' => {
                self.pop_mark()?;
            }
            _ => {
                let v = self.top()?.clone();
                self.push(v)?;
            }
        }
        Ok(())
    }

    /// None, booleans, integers and floats.
    fn scalar(&mut self, op: u8) -> Step<()> {
        let v = match op {
            b'N' => Value::None,
            0x88 => Value::Bool(true),
            0x89 => Value::Bool(false),
            b'K' => Value::Int(self.uint_le(1)? as i64),
            b'M' => Value::Int(self.uint_le(2)? as i64),
            b'J' => Value::Int(i64::from(self.uint_le(4)? as u32 as i32)),
            0x8a => Value::Int(self.long1()?),
            _ => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Float(f64::from_be_bytes(a))
            }
        };
        self.push(v)
    }

    /// LONG1: a little-endian two's complement integer of n bytes.
    fn long1(&mut self) -> Step<i64> {
        let n = usize::from(self.byte()?);
        let b = self.take(n)?;
        if n > 8 {
            return Err(format!("integer of {n} bytes is too large"));
        }
        let mut v: i64 = 0;
        for (i, &x) in b.iter().enumerate() {
            v |= i64::from(x) << (8 * i);
        }
        if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
            v -= 1i64 << (8 * n);
        }
        Ok(v)
    }

    /// Unicode strings, Python 2 strings and bytes, each after its length.
    fn text(&mut self, op: u8) -> Step<()> {
        let width = match op {
            b'C' | b'U' | 0x8c => 1,
            b'X' | b'B' | b'T' => 4,
            _ => 8,
        };
        let n = self.len_le(width)?;
        let b = self.take(n)?;
        let v = match op {
            b'X' | 0x8c | 0x8d => {
                let s = std::str::from_utf8(b).map_err(|_| "string is not valid UTF-8")?;
                Value::Str(s.into())
            }
            // Python 2 `str` (U, T) stays bytes, read as Latin-1 when text
            // is needed.
            _ => Value::Bytes(b.into()),
        };
        self.push(v)
    }

    /// Tuples and lists.
    fn sequence(&mut self, op: u8) -> Step<()> {
        match op {
            b')' => self.push(Value::Tuple(Rc::from(Vec::new()), 1)),
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let floor = self.marks.last().copied().unwrap_or(0);
                if self.stack.len() < floor + n {
                    return Err("stack underflow".into());
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.push(make_tuple(items)?)
            }
            b't' => {
                let items = self.pop_mark()?;
                self.push(make_tuple(items)?)
            }
            b']' => self.push(new_list(Vec::new())?),
            b'l' => {
                let items = self.pop_mark()?;
                self.push(new_list(items)?)
            }
            b'a' => {
                let v = self.pop()?;
                extend_list(self.top()?, vec![v])
            }
            _ => {
                let items = self.pop_mark()?;
                extend_list(self.top()?, items)
            }
        }
    }

    /// Dictionaries.
    fn mapping(&mut self, op: u8) -> Step<()> {
        match op {
            b'}' => self.push(new_dict()),
            b'd' => {
                let items = self.pop_mark()?;
                let d = new_dict();
                set_items(&d, items)?;
                self.push(d)
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                set_items(self.top()?, vec![k, v])
            }
            _ => {
                let items = self.pop_mark()?;
                set_items(self.top()?, items)
            }
        }
    }

    /// GLOBAL, STACK_GLOBAL, REDUCE and BUILD.
    fn object(&mut self, op: u8) -> Step<()> {
        match op {
            b'c' => {
                let module = self.line()?;
                let name = self.line()?;
                self.push(global(&module, &name)?)
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                match (module, name) {
                    (Value::Str(m), Value::Str(n)) => self.push(global(&m, &n)?),
                    _ => Err("STACK_GLOBAL needs two strings".into()),
                }
            }
            b'R' => {
                let args = self.pop()?;
                let func = self.pop()?;
                let v = reduce(&func, &args)?;
                self.push(v)
            }
            _ => {
                let state = self.pop()?;
                build(self.top()?, &state)
            }
        }
    }

    /// BINPUT, LONG_BINPUT, MEMOIZE, BINGET and LONG_BINGET.
    fn memo_op(&mut self, op: u8) -> Step<()> {
        match op {
            b'q' => {
                let k = self.uint_le(1)?;
                self.memo_put(k)
            }
            b'r' => {
                let k = self.uint_le(4)?;
                self.memo_put(k)
            }
            0x94 => {
                let k = self.memo.len() as u64;
                self.memo_put(k)
            }
            b'h' => {
                let k = self.uint_le(1)?;
                self.memo_get(k)
            }
            _ => {
                let k = self.uint_le(4)?;
                self.memo_get(k)
            }
        }
    }
}

fn new_depth(current: usize, items: &[Value]) -> Step<usize> {
    let d = items
        .iter()
        .map(|v| v.depth() + 1)
        .fold(current.max(1), usize::max);
    if d > MAX_DEPTH {
        return Err(format!("containers nested deeper than {MAX_DEPTH}"));
    }
    Ok(d)
}

fn new_list(items: Vec<Value>) -> Step<Value> {
    let depth = new_depth(1, &items)?;
    Ok(Value::List(Rc::new(RefCell::new(Container {
        items,
        depth,
    }))))
}

fn extend_list(target: &Value, items: Vec<Value>) -> Step<()> {
    let Value::List(l) = target else {
        return Err(format!("APPEND to a {}", target.type_name()));
    };
    let depth = {
        let cur = l
            .try_borrow()
            .map_err(|_| "list modified while in use")?
            .depth;
        new_depth(cur, &items)?
    };
    let mut l = l
        .try_borrow_mut()
        .map_err(|_| "list modified while in use")?;
    l.depth = depth;
    l.items.extend(items);
    Ok(())
}

fn make_tuple(items: Vec<Value>) -> Step<Value> {
    let depth = new_depth(1, &items)?;
    Ok(Value::Tuple(Rc::from(items), depth))
}

fn new_dict() -> Value {
    Value::Dict(Rc::new(RefCell::new(Container {
        items: Vec::new(),
        depth: 1,
    })))
}

fn set_items(target: &Value, items: Vec<Value>) -> Step<()> {
    if !items.len().is_multiple_of(2) {
        return Err("SETITEMS with an odd number of items".into());
    }
    let Value::Dict(d) = target else {
        return Err(format!("SETITEM on a {}", target.type_name()));
    };
    let depth = {
        let cur = d
            .try_borrow()
            .map_err(|_| "dict modified while in use")?
            .depth;
        new_depth(cur, &items)?
    };
    let mut d = d
        .try_borrow_mut()
        .map_err(|_| "dict modified while in use")?;
    d.depth = depth;
    let d = &mut d.items;
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        if !matches!(k, Value::Str(_) | Value::Bytes(_) | Value::Int(_)) {
            return Err(format!("unsupported dict key type {}", k.type_name()));
        }
        // Appended without a duplicate scan (O(1)); lookups take the last
        // entry for a key, which is what Python's dict would hold.
        d.push((k, v));
    }
    Ok(())
}

fn global(module: &str, name: &str) -> Step<Value> {
    Global::lookup(module, name)
        .map(Value::Global)
        .ok_or_else(|| format!("refusing unsupported global `{module}.{name}`"))
}

fn tuple_args(args: &Value, what: &str, n: usize) -> Step<Rc<[Value]>> {
    match args {
        Value::Tuple(t, _) if t.len() == n => Ok(t.clone()),
        Value::Tuple(t, _) => Err(format!("{what} takes {n} arguments, got {}", t.len())),
        other => Err(format!("{what} arguments are a {}", other.type_name())),
    }
}

fn reduce(func: &Value, args: &Value) -> Step<Value> {
    let Value::Global(g) = func else {
        return Err(format!("REDUCE on a {}, not a callable", func.type_name()));
    };
    match g {
        Global::Reconstruct => {
            let a = tuple_args(args, "_reconstruct", 3)?;
            if !matches!(a[0], Value::Global(Global::NdArrayClass)) {
                return Err("_reconstruct of something other than numpy.ndarray".into());
            }
            Ok(Value::Array(Rc::new(RefCell::new(NdArray::default()))))
        }
        Global::Dtype => {
            let a = match args {
                Value::Tuple(t, _) if !t.is_empty() => t.clone(),
                _ => return Err("numpy.dtype needs arguments".into()),
            };
            let spec = a[0]
                .as_text()
                .ok_or("numpy.dtype argument is not a string")?;
            Ok(Value::Dtype(Rc::new(RefCell::new(Dtype::parse(&spec)?))))
        }
        Global::Scalar => {
            let a = tuple_args(args, "scalar", 2)?;
            let Value::Dtype(d) = &a[0] else {
                return Err("numpy scalar without a dtype".into());
            };
            let raw = match &a[1] {
                Value::Bytes(b) => b.to_vec(),
                Value::Str(s) => s.chars().map(|c| c as u8).collect(),
                other => return Err(format!("numpy scalar data is a {}", other.type_name())),
            };
            let dtype = d.borrow().clone();
            dtype.decode_scalar(&raw)
        }
        Global::FromBuffer => {
            let a = tuple_args(args, "_frombuffer", 4)?;
            let Value::Bytes(raw) = &a[0] else {
                return Err("_frombuffer without a byte buffer".into());
            };
            let Value::Dtype(d) = &a[1] else {
                return Err("_frombuffer without a dtype".into());
            };
            let shape = parse_shape(&a[2])?;
            let fortran = a[3].as_text().as_deref() == Some("F");
            let arr = NdArray::new(shape, d.borrow().clone(), fortran, raw.clone())?;
            Ok(Value::Array(Rc::new(RefCell::new(arr))))
        }
        Global::CodecsEncode => {
            let a = tuple_args(args, "_codecs.encode", 2)?;
            let Value::Str(s) = &a[0] else {
                return Err("_codecs.encode of a non-string".into());
            };
            let enc = a[1].as_text().unwrap_or_default();
            if enc != "latin1" && enc != "latin-1" {
                return Err(format!("_codecs.encode with unsupported encoding {enc:?}"));
            }
            let bytes: Step<Vec<u8>> = s
                .chars()
                .map(|c| u8::try_from(u32::from(c)).map_err(|_| "non-Latin-1 character".into()))
                .collect();
            Ok(Value::Bytes(bytes?.into()))
        }
        Global::NdArrayClass => Err("numpy.ndarray called directly".into()),
    }
}

fn build(target: &Value, state: &Value) -> Step<()> {
    match target {
        Value::Array(a) => a
            .try_borrow_mut()
            .map_err(|_| "array built while in use".to_string())?
            .set_state(state),
        Value::Dtype(d) => d
            .try_borrow_mut()
            .map_err(|_| "dtype built while in use".to_string())?
            .set_state(state),
        other => Err(format!("BUILD on a {}", other.type_name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_small_dict() {
        // pickle.dumps({'a': [1, 2], 'b': 'x'}, protocol=2)
        let bytes = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01K\x02eX\x01\x00\x00\x00bq\x03X\x01\x00\x00\x00xq\x04u.";
        let v = load(bytes).unwrap();
        assert_eq!(v.dict_keys(), vec!["a", "b"]);
        let a = v.dict_get("a").unwrap().sequence().unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[1].as_int(), Some(2));
        assert_eq!(v.dict_get("b").unwrap().as_text().as_deref(), Some("x"));
    }

    #[test]
    fn repeated_key_keeps_last_value() {
        // {'a': 1} with SETITEM 'a' -> 2 appended by hand.
        let bytes = b"\x80\x02}(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00aK\x02u.";
        let v = load(bytes).unwrap();
        assert_eq!(v.dict_get("a").and_then(|x| x.as_int()), Some(2));
    }

    #[test]
    fn rejects_unknown_global() {
        let bytes = b"\x80\x02cos\nsystem\nq\x00.";
        let e = load(bytes).unwrap_err();
        assert!(e.reason.contains("os.system"), "{e:?}");
    }

    #[test]
    fn truncated_reports_offset() {
        let bytes = b"\x80\x02}q\x00(X\x05\x00\x00\x00ab";
        let e = load(bytes).unwrap_err();
        assert_eq!(e.offset, 6);
        assert!(e.reason.contains("exceeds"), "{e:?}");
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let mut bytes = b"\x80\x02".to_vec();
        for _ in 0..200 {
            bytes.extend_from_slice(b"]");
        }
        for _ in 0..199 {
            bytes.extend_from_slice(b"a");
        }
        bytes.push(b'.');
        let e = load(&bytes).unwrap_err();
        assert!(e.reason.contains("nested"), "{e:?}");
    }
}
