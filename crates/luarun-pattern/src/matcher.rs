//! Lua 5.4's pattern matcher (`MatchState` and `match` in `lstrlib.c`), ported line by
//! line so that every pattern matches, fails and errs exactly as in C, with one
//! addition: every step is counted (see `steps.rs`) so that limits can stop it.
//!
//! Positions are byte offsets into the subject; C's NULL (no match) is `None`. C reads
//! the NUL that terminates every Lua string when it looks one byte past the pattern or
//! the subject; [`MatchState::pat`] and [`MatchState::subject`] return 0 there to match.

use super::ctype::match_class;
use super::steps::{Steps, CHUNK_BYTES};
use crate::Stop;

/// Most captures one pattern may hold (`LUA_MAXCAPTURES`).
pub const MAX_CAPTURES: usize = 32;

/// Most nested calls of the recursive matcher (`MAXCCALLS`): past it, "pattern too
/// complex". It also bounds the host stack the matcher uses.
pub const MAX_MATCH_DEPTH: u32 = 200;

const ESCAPE: u8 = b'%';
const CAP_UNFINISHED: isize = -1;
const CAP_POSITION: isize = -2;

/// Why a match attempt ended without an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchError {
    /// The pattern is malformed or misused; the text is Lua 5.4's error message.
    Pattern(String),
    /// A limit or an interrupt stopped the matcher.
    Stopped(Stop),
}

impl From<Stop> for MatchError {
    fn from(stop: Stop) -> Self {
        MatchError::Stopped(stop)
    }
}

fn pattern_error<T>(message: impl Into<String>) -> Result<T, MatchError> {
    Err(MatchError::Pattern(message.into()))
}

/// One capture's value as Lua sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// The subject bytes `start..end`.
    Bytes(usize, usize),
    /// A position capture `()`: the 1-based position.
    Position(usize),
}

/// The state of matching one pattern against one subject (`MatchState`).
pub struct MatchState<'a, 'm> {
    subject: &'a [u8],
    pattern: &'a [u8],
    depth_left: u32,
    level: usize,
    /// (start, length or CAP_UNFINISHED / CAP_POSITION), as in C.
    captures: [(usize, isize); MAX_CAPTURES],
    steps: &'a mut Steps<'m>,
}

impl<'a, 'm> MatchState<'a, 'm> {
    /// Prepares to match `pattern` (without a leading `^` anchor, which the callers
    /// handle) against `subject`.
    pub fn new(subject: &'a [u8], pattern: &'a [u8], steps: &'a mut Steps<'m>) -> Self {
        MatchState {
            subject,
            pattern,
            depth_left: MAX_MATCH_DEPTH,
            level: 0,
            captures: [(0, 0); MAX_CAPTURES],
            steps,
        }
    }

    /// Tries to match the pattern at subject offset `start`; returns the end of the
    /// match. Resets the captures first (C's `reprepstate`).
    pub fn match_at(&mut self, start: usize) -> Result<Option<usize>, MatchError> {
        self.depth_left = MAX_MATCH_DEPTH;
        self.level = 0;
        self.do_match(start, 0)
    }

    /// The step counter, for bulk work done around the matcher.
    pub fn steps(&mut self) -> &mut Steps<'m> {
        self.steps
    }

    /// Number of captures the last successful match made.
    pub fn level(&self) -> usize {
        self.level
    }

    /// Capture `i` of the match `start..end` (`get_onecapture`): with no captures,
    /// capture 0 is the whole match.
    pub fn capture(&self, i: usize, start: usize, end: usize) -> Result<Capture, MatchError> {
        if i >= self.level {
            if i != 0 {
                return pattern_error(format!("invalid capture index %{}", i + 1));
            }
            return Ok(Capture::Bytes(start, end));
        }
        let (init, len) = self.captures[i];
        match len {
            CAP_UNFINISHED => pattern_error("unfinished capture"),
            CAP_POSITION => Ok(Capture::Position(init + 1)),
            len => Ok(Capture::Bytes(init, init + len as usize)),
        }
    }

    /// All captures of the match `start..end` as `push_captures` pushes them: the whole
    /// match when the pattern has none and `whole` is set (`find` does not want it).
    pub fn captures(
        &self,
        start: usize,
        end: usize,
        whole: bool,
    ) -> Result<Vec<Capture>, MatchError> {
        let count = if self.level == 0 && whole {
            1
        } else {
            self.level
        };
        (0..count).map(|i| self.capture(i, start, end)).collect()
    }

    /// The pattern byte at `i`, or the terminating NUL C would read past the end.
    #[inline(always)]
    fn pat(&self, i: usize) -> u8 {
        self.pattern.get(i).copied().unwrap_or(0)
    }

    /// The subject byte at `i`, or the terminating NUL.
    #[inline(always)]
    fn subject(&self, i: usize) -> u8 {
        self.subject.get(i).copied().unwrap_or(0)
    }

    fn do_match(&mut self, mut s: usize, mut p: usize) -> Result<Option<usize>, MatchError> {
        if self.depth_left == 0 {
            return pattern_error("pattern too complex");
        }
        self.depth_left -= 1;
        // Each `continue` is C's `goto init` (a tail call without recursion); each pass
        // is a step, so a long literal pattern cannot run unchecked either.
        let result = loop {
            self.steps.tick()?;
            if p == self.pattern.len() {
                break Some(s);
            }
            match self.pattern[p] {
                b'(' => {
                    break if self.pat(p + 1) == b')' {
                        self.start_capture(s, p + 2, CAP_POSITION)?
                    } else {
                        self.start_capture(s, p + 1, CAP_UNFINISHED)?
                    };
                }
                b')' => break self.end_capture(s, p + 1)?,
                b'$' if p + 1 == self.pattern.len() => {
                    break (s == self.subject.len()).then_some(s);
                }
                ESCAPE if self.pat(p + 1) == b'b' => match self.match_balance(s, p + 2)? {
                    Some(end) => {
                        s = end;
                        p += 4;
                        continue;
                    }
                    None => break None,
                },
                ESCAPE if self.pat(p + 1) == b'f' => {
                    p += 2;
                    if self.pat(p) != b'[' {
                        return pattern_error("missing '[' after '%f' in pattern");
                    }
                    let ep = self.class_end(p)?;
                    self.steps.bytes(2 * (ep - p))?;
                    let previous = if s == 0 { 0 } else { self.subject[s - 1] };
                    if !self.match_bracket_class(previous, p, ep - 1)
                        && self.match_bracket_class(self.subject(s), p, ep - 1)
                    {
                        p = ep;
                        continue;
                    }
                    break None;
                }
                ESCAPE if self.pat(p + 1).is_ascii_digit() => {
                    match self.match_back_reference(s, self.pat(p + 1))? {
                        Some(end) => {
                            s = end;
                            p += 2;
                            continue;
                        }
                        None => break None,
                    }
                }
                _ => {}
            }
            // A single-character class plus an optional suffix.
            let ep = self.class_end(p)?;
            // A set costs its length at every byte it is tried on.
            self.steps.bytes(ep - p)?;
            let suffix = self.pat(ep);
            if !self.single_match(s, p, ep) {
                if matches!(suffix, b'*' | b'?' | b'-') {
                    p = ep + 1;
                    continue;
                }
                break None;
            }
            match suffix {
                b'?' => {
                    if let Some(end) = self.do_match(s + 1, ep + 1)? {
                        break Some(end);
                    }
                    p = ep + 1;
                }
                b'+' => break self.max_expand(s + 1, p, ep)?,
                b'*' => break self.max_expand(s, p, ep)?,
                b'-' => break self.min_expand(s, p, ep)?,
                _ => {
                    s += 1;
                    p = ep;
                }
            }
        };
        self.depth_left += 1;
        Ok(result)
    }

    /// The end of the single-character class starting at `p` (`classend`).
    fn class_end(&self, p: usize) -> Result<usize, MatchError> {
        let end = self.pattern.len();
        let first = self.pattern[p];
        let mut p = p + 1;
        match first {
            ESCAPE => {
                if p == end {
                    return pattern_error("malformed pattern (ends with '%')");
                }
                Ok(p + 1)
            }
            b'[' => {
                if self.pat(p) == b'^' {
                    p += 1;
                }
                // The first byte of a set is never its end, so `[]]` is a set of `]`.
                loop {
                    if p == end {
                        return pattern_error("malformed pattern (missing ']')");
                    }
                    let c = self.pattern[p];
                    p += 1;
                    if c == ESCAPE && p < end {
                        p += 1;
                    }
                    if self.pat(p) == b']' {
                        break;
                    }
                }
                Ok(p + 1)
            }
            _ => Ok(p),
        }
    }

    /// Whether `c` is in the set `[...]` spanning `p` (its `[`) to `ec` (its `]`).
    fn match_bracket_class(&self, c: u8, mut p: usize, ec: usize) -> bool {
        let mut found = true;
        if self.pat(p + 1) == b'^' {
            found = false;
            p += 1;
        }
        loop {
            p += 1;
            if p >= ec {
                return !found;
            }
            let here = self.pattern[p];
            if here == ESCAPE {
                p += 1;
                if match_class(c, self.pat(p)) {
                    return found;
                }
            } else if self.pat(p + 1) == b'-' && p + 2 < ec {
                p += 2;
                if here <= c && c <= self.pattern[p] {
                    return found;
                }
            } else if here == c {
                return found;
            }
        }
    }

    /// Whether the subject byte at `s` matches the class `p..ep`.
    #[inline]
    fn single_match(&self, s: usize, p: usize, ep: usize) -> bool {
        let Some(&c) = self.subject.get(s) else {
            return false;
        };
        match self.pattern[p] {
            b'.' => true,
            ESCAPE => match_class(c, self.pat(p + 1)),
            b'[' => self.match_bracket_class(c, p, ep - 1),
            literal => literal == c,
        }
    }

    /// `%bxy`: a balanced run from `x` to the matching `y` (`matchbalance`).
    fn match_balance(&mut self, s: usize, p: usize) -> Result<Option<usize>, MatchError> {
        if p + 1 >= self.pattern.len() {
            return pattern_error("malformed pattern (missing arguments to '%b')");
        }
        let (open, close) = (self.pattern[p], self.pattern[p + 1]);
        if self.subject(s) != open {
            return Ok(None);
        }
        let mut depth = 1;
        for (i, &c) in self.subject.iter().enumerate().skip(s + 1) {
            self.steps.tick()?;
            if c == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(i + 1));
                }
            } else if c == open {
                depth += 1;
            }
        }
        Ok(None)
    }

    /// Greedy repetition: the longest run first, then shorter ones (`max_expand`).
    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> Result<Option<usize>, MatchError> {
        let mut count = 0;
        while self.single_match(s + count, p, ep) {
            self.steps.tick()?;
            self.steps.bytes(ep - p)?;
            count += 1;
        }
        loop {
            if let Some(end) = self.do_match(s + count, ep + 1)? {
                return Ok(Some(end));
            }
            if count == 0 {
                return Ok(None);
            }
            count -= 1;
        }
    }

    /// Lazy repetition: the shortest run first (`min_expand`).
    fn min_expand(
        &mut self,
        mut s: usize,
        p: usize,
        ep: usize,
    ) -> Result<Option<usize>, MatchError> {
        loop {
            if let Some(end) = self.do_match(s, ep + 1)? {
                return Ok(Some(end));
            }
            self.steps.bytes(ep - p)?;
            if !self.single_match(s, p, ep) {
                return Ok(None);
            }
            s += 1;
        }
    }

    fn start_capture(
        &mut self,
        s: usize,
        p: usize,
        what: isize,
    ) -> Result<Option<usize>, MatchError> {
        if self.level >= MAX_CAPTURES {
            return pattern_error("too many captures");
        }
        self.captures[self.level] = (s, what);
        self.level += 1;
        let result = self.do_match(s, p)?;
        if result.is_none() {
            self.level -= 1;
        }
        Ok(result)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> Result<Option<usize>, MatchError> {
        let Some(open) = (0..self.level)
            .rev()
            .find(|&l| self.captures[l].1 == CAP_UNFINISHED)
        else {
            return pattern_error("invalid pattern capture");
        };
        self.captures[open].1 = (s - self.captures[open].0) as isize;
        let result = self.do_match(s, p)?;
        if result.is_none() {
            self.captures[open].1 = CAP_UNFINISHED;
        }
        Ok(result)
    }

    /// `%1`-`%9`: the text of an earlier capture again (`match_capture`).
    fn match_back_reference(&mut self, s: usize, digit: u8) -> Result<Option<usize>, MatchError> {
        let index = digit as isize - b'1' as isize;
        if index < 0
            || index as usize >= self.level
            || self.captures[index as usize].1 == CAP_UNFINISHED
        {
            return pattern_error(format!("invalid capture index %{}", index + 1));
        }
        let (init, len) = self.captures[index as usize];
        // A position capture's length is negative: C compares it as a huge size_t.
        if len < 0 || self.subject.len() - s < len as usize {
            return Ok(None);
        }
        let len = len as usize;
        // Compared in chunks so that a huge capture still lets checks through.
        let mut done = 0;
        while done < len {
            let chunk = (len - done).min(CHUNK_BYTES);
            self.steps.bytes(chunk)?;
            if self.subject[init + done..init + done + chunk]
                != self.subject[s + done..s + done + chunk]
            {
                return Ok(None);
            }
            done += chunk;
        }
        Ok(Some(s + len))
    }
}
