//! Differential test of the local_settings.py literal reader
//! (src/collect/openstack/pysettings.rs) against Python's own `ast.literal_eval` on the
//! same module-level assignments: where Python evaluates a literal, the reader gives the
//! same value or an honest `unknown`; where Python refuses, the reader never gives a value.
//! Known differences (the reader is stricter, never laxer): bytes, sets, complex numbers
//! and `\N{...}` escapes are literals to Python and `unknown` here; integers beyond i64
//! become floats (JSON).

mod common;

use serde_json::Value;
use stackposture::collect::openstack::pysettings::{parse, Setting};
use std::process::Command;

const SOURCE: &str = r#"
A = True
B = 'single'
C = "dou\"ble"
D = r'^(?=.*\d).{8,}$'
E = '''tri
ple'''
F = 'con' "cat" 'enated'
G = ('HTTP_X_FORWARDED_PROTO', 'https')
H = ['a', 1, 2.5, None, False,]
I = {'regex': '.*', "help_text": 'x', 'n': {'m': [1, (2,)]}}
J = 0x1F
K = 0o17
L = 0b101
M = 1_000_000
N = -3
O = 1e3
P = -2.5e-2
Q = (1)
R = (1,)
S = ()
T = 'tab\there\\back \x41 \u00e9 \101'
U = 'a' \
    'b'
V = (
    'x',  # comment
    'y',
)
W = b'bytes'
X = {'a', 'b'}
Y = 1 + 2
Z = 3j
AA = 'esc \N{BULLET}'
AB = os.environ.get('X')
AC = _('translated')
AD = [i for i in range(3)]
AE = {1: 'int key'}
AF = 'x' if True else 'y'
AG = not True
AH = +7
AI = 99999999999999999999999
AJ = u'unicode prefix'
AK = R"raw\n"
"#;

const PY: &str = r#"
import ast, json, sys
src = open(sys.argv[1]).read()
out = {}
for node in ast.parse(src).body:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        try:
            v = ast.literal_eval(node.value)
            def conv(x):
                if isinstance(x, (tuple, list)): return [conv(i) for i in x]
                if isinstance(x, dict): return {k: conv(w) for k, w in x.items()} if all(isinstance(k, str) for k in x) else None
                if isinstance(x, (bytes, set, frozenset, complex)): return None
                return x
            c = conv(v)
            out[node.targets[0].id] = {"value": c} if c is not None or v is None else {"unrepresentable": True}
        except Exception as e:
            out[node.targets[0].id] = {"refused": type(e).__name__}
print(json.dumps(out))
"#;

fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn literals_agree_with_python_literal_eval() {
    let Some(py) = common::python_with("ast") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("local_settings.py");
    std::fs::write(&p, SOURCE).unwrap();
    let o = Command::new(&py)
        .arg("-c")
        .arg(PY)
        .arg(&p)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let theirs: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ours = parse(SOURCE);
    // Python is stricter nowhere: where it refuses, we must not give a value.
    // Where it evaluates, we give the same value, or unknown for the listed differences.
    let differences = ["W", "X", "Z", "AA"];
    let mut agreed = 0;
    for (name, t) in theirs.as_object().unwrap() {
        let mine = ours.get(name);
        match (t.get("value"), &mine) {
            (Some(v), Some(Setting::Known { value, .. })) => {
                assert!(close(v, value), "{name}: python {v} ours {value}");
                agreed += 1;
            }
            (Some(v), other) => assert!(
                differences.contains(&name.as_str()),
                "{name}: python reads {v}, ours {other:?}"
            ),
            (None, Some(Setting::Known { value, .. })) => {
                panic!("{name}: python gives no plain value ({t}), ours {value}")
            }
            (None, _) => {}
        }
    }
    for d in differences {
        assert!(
            matches!(ours.get(d), Some(Setting::Unknown(_))),
            "{d} is a known difference: unknown here"
        );
    }
    assert!(agreed >= 25, "only {agreed} values compared");
}
