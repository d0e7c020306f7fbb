//! Shared by the pattern tests and benchmarks: a seeded generator of patterns and
//! subjects, and a Lua driver that runs one library call and describes its outcome as a
//! string, so the port and Lua's C functions can be compared value by value.
#![allow(dead_code)]

/// Runs each case of a batch: `{kind, subject, pattern, a, b}` -> a description of
/// everything the call returned or raised.
pub const DRIVER: &str = r##"
local function show(v)
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t == "number" then return math.type(v) .. ":" .. tostring(v) end
  if t == "boolean" or t == "nil" then return tostring(v) end
  return t
end
local function pack(...)
  local out = {"n=" .. select("#", ...)}
  for i = 1, select("#", ...) do out[#out + 1] = show((select(i, ...))) end
  return table.concat(out, ",")
end
local templates = {"<%0>", "%1-%2", "%%", "x%", "%x", "%9", "[%1]", "", 42, 1.5}
local lookup = setmetatable({a = "A", b = false, ["1"] = "one", [1] = "first"},
  {__index = function(t, k) if k == "c" then return {} end return nil end})
local plain = {a = "A", ["("] = 7, [2] = "two"}
local functions = {
  function(...) return table.concat({...}, "|") end,
  function() return false end,
  function() end,
  function(x) return x == "a" and 10 or nil end,
  function(x) if x == "b" then return {} end return "." end,
  function(x) if x == "b" then error({code = 1}) end return x end,
  function(x) if x == "b" then error("replacement failed") end return x end,
}
local function run(kind, s, p, a, b)
  if kind == "find" then return pack(pcall(string.find, s, p, a, b)) end
  if kind == "match" then return pack(pcall(string.match, s, p, a)) end
  -- Not a tail call: Lua's C functions name the calling line in their messages, which
  -- a tail call would erase.
  if kind == "method" then
    return pack(pcall(function() local r = table.pack(s:find(p, a)) return table.unpack(r, 1, r.n) end))
  end
  if kind == "gmatch" then
    local ok, iterate = pcall(string.gmatch, s, p, a)
    if not ok then return pack(false, iterate) end
    local out = {}
    for _ = 1, 300 do
      local r = table.pack(pcall(iterate))
      out[#out + 1] = pack(table.unpack(r, 1, r.n))
      if not r[1] or r[2] == nil then break end
    end
    return table.concat(out, ";")
  end
  if kind == "gsub" then
    local repl
    if b <= #templates then repl = templates[b]
    elseif b == #templates + 1 then repl = lookup
    elseif b == #templates + 2 then repl = plain
    else repl = functions[b - #templates - 2] end
    return pack(pcall(string.gsub, s, p, repl, a))
  end
  if kind == "rep" then return pack(pcall(string.rep, s, a, b)) end
  if kind == "raw" then return pack(pcall(string[p], s, a, b)) end
  error("unknown kind " .. kind)
end
return function(cases)
  local results = {}
  for i, case in ipairs(cases) do results[i] = run(case[1], case[2], case[3], case[4], case[5]) end
  return results
end
"##;

/// Number of replacement kinds the driver knows for gsub (`b` is 1..=this).
pub const REPLACEMENTS: u64 = 10 + 2 + 7;

/// A small deterministic generator (xorshift64*), so failures are reproducible.
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Bytes subjects are made of: letters, digits, pattern specials, NUL, high bytes.
const SUBJECT_BYTES: &[u8] = b"aab()[]. \0\xff\xe90A_%\n-b^$";

/// A random subject of up to `max_len` bytes.
pub fn subject(rng: &mut Rng, max_len: u64) -> Vec<u8> {
    let len = rng.below(max_len + 1);
    (0..len).map(|_| *rng.pick(SUBJECT_BYTES)).collect()
}

const ATOMS: &[&str] = &[
    "a",
    "b",
    ".",
    "%a",
    "%A",
    "%c",
    "%C",
    "%d",
    "%D",
    "%g",
    "%G",
    "%l",
    "%L",
    "%p",
    "%P",
    "%s",
    "%S",
    "%u",
    "%U",
    "%w",
    "%W",
    "%x",
    "%X",
    "%z",
    "%Z",
    "%.",
    "%%",
    "%(",
    "%]",
    "\0",
    "\u{ff}",
    "[ab]",
    "[^ab]",
    "[a-c]",
    "[%a_]",
    "[]]",
    "[^]]",
    "[a-]",
    "[%]]",
    "[\0-\u{7f}]",
    "[^%s%d]",
    "[%w%p]",
    "^",
    "$",
    "-",
    "%q",
    "[.]",
    "[a-z0-9]",
    "(",
    ")",
];
const TAILS: &[&str] = &["", "", "", "*", "+", "-", "?"];
const SPECIAL_ITEMS: &[&str] = &[
    "%b()", "%bab", "%b", "%b(", "%f[%w]", "%f[%W]", "%f[a]", "%f[^\0]", "%f", "%fa", "%1", "%2",
    "%0", "()", "(a)", "(.-)", "(%a+)", "((a)b)", "%", "[a", "[^", "[%", "(", ")",
];

/// A random pattern: anchors, classes, sets, quantifiers (at most three, so the C
/// original finishes quickly too), captures, back references, `%b`, `%f` and some
/// malformed pieces.
pub fn pattern(rng: &mut Rng) -> Vec<u8> {
    let mut out = String::new();
    if rng.below(4) == 0 {
        out.push('^');
    }
    let mut quantifiers = 0;
    for _ in 0..rng.below(6) + 1 {
        if rng.below(5) == 0 {
            out.push_str(rng.pick::<&str>(SPECIAL_ITEMS));
            continue;
        }
        out.push_str(rng.pick::<&str>(ATOMS));
        let tail = *rng.pick(TAILS);
        if !tail.is_empty() && quantifiers < 3 {
            quantifiers += 1;
            out.push_str(tail);
        }
    }
    if rng.below(6) == 0 {
        out.push('$');
    }
    // Each char above is one byte, except U+00FF, which stands for the byte 0xff.
    out.chars()
        .map(|c| if c == '\u{ff}' { 0xff } else { c as u8 })
        .collect()
}

/// Start positions worth trying: absent, typical, negative, zero and out of range.
pub const INITS: &[Option<i64>] = &[
    None,
    Some(1),
    Some(2),
    Some(5),
    Some(0),
    Some(-1),
    Some(-3),
    Some(-100),
    Some(100),
    Some(i64::MAX),
    Some(i64::MIN),
];
