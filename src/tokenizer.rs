//! The character vocabulary: the sorted unique characters of the training text (as nanoGPT's
//! `shakespeare_char/prepare.py`), a token id being a character's index.
//!
//! Text with characters the model never saw has two outcomes, both explicit:
//! [`Vocab::encode`] refuses it with an [`Error::Tokenizer`] naming each unknown character and
//! where it is; [`Vocab::encode_lossy`] replaces each one with [`Vocab::replacement`] (a space
//! when the vocabulary has one) and reports what it replaced. Nothing here panics.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// A character vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocab {
    chars: Vec<char>,           // (V) sorted, unique
    ascii: [u32; 128],          // fast path: id of an ASCII char, or u32::MAX
    others: HashMap<char, u32>, // the non-ASCII chars
}

/// One character [`Vocab::encode_lossy`] could not encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaced {
    /// Index of the character in the text (in characters, not bytes).
    pub position: usize,
    /// The character that was not in the vocabulary.
    pub ch: char,
}

/// The result of [`Vocab::encode_lossy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Token ids, one per character of the text.
    pub ids: Vec<u32>,
    /// The characters replaced by [`Vocab::replacement`], in text order.
    pub replaced: Vec<Replaced>,
}

impl Vocab {
    /// The vocabulary of `text`: its sorted unique characters.
    pub fn from_text(text: &str) -> Result<Vocab> {
        // ASCII in a table, the rest in a set; then sorted (a few thousand at most).
        let (mut ascii, mut seen) = ([false; 128], std::collections::HashSet::new());
        for c in text.chars() {
            if c.is_ascii() {
                ascii[c as usize] = true;
            } else {
                seen.insert(c);
            }
        }
        let mut others: Vec<char> = seen.into_iter().collect();
        crate::sort::sort_by(&mut others, char::cmp);
        let mut chars: Vec<char> = (0u8..128).filter(|&b| ascii[b as usize]).map(char::from).collect();
        chars.extend(others);
        Vocab::from_chars(chars)
    }

    /// A vocabulary from its characters, which must be unique and sorted (as a checkpoint
    /// stores them), so that ids mean the same everywhere.
    pub fn from_chars(chars: Vec<char>) -> Result<Vocab> {
        if chars.is_empty() {
            return Err(Error::Tokenizer("the vocabulary is empty (no text to build it from)".into()));
        }
        if let Some(w) = chars.windows(2).find(|w| w[0] >= w[1]) {
            return Err(Error::Tokenizer(format!(
                "vocabulary characters must be sorted and unique, found {:?} before {:?}",
                w[0], w[1]
            )));
        }
        if chars.len() > u32::MAX as usize / 2 {
            return Err(Error::Tokenizer("vocabulary too large".into()));
        }
        let mut ascii = [u32::MAX; 128];
        let mut others = HashMap::new();
        for (i, &ch) in chars.iter().enumerate() {
            if (ch as u32) < 128 {
                ascii[ch as usize] = i as u32;
            } else {
                others.insert(ch, i as u32);
            }
        }
        Ok(Vocab { chars, ascii, others })
    }

    /// Number of characters, V.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Always false: a vocabulary has at least one character.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters, in id order.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The characters as one string, in id order (how a checkpoint stores them).
    pub fn as_string(&self) -> String {
        self.chars.iter().collect()
    }

    /// The id of `ch`, if it is in the vocabulary.
    pub fn id(&self, ch: char) -> Option<u32> {
        if (ch as u32) < 128 {
            let id = self.ascii[ch as usize];
            (id != u32::MAX).then_some(id)
        } else {
            self.others.get(&ch).copied()
        }
    }

    /// What [`Vocab::encode_lossy`] puts in place of an unknown character: a space if the
    /// vocabulary has one, else a newline, else its first character.
    pub fn replacement(&self) -> char {
        [' ', '\n'].into_iter().find(|&c| self.id(c).is_some()).unwrap_or(self.chars[0])
    }

    /// Encodes `text`, or fails naming every unknown character and its first positions.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self.encode_lossy(text);
        if enc.replaced.is_empty() {
            return Ok(enc.ids);
        }
        // Group by character: "'é' at 3, 17; 'Z' at 40".
        let mut groups: Vec<(char, Vec<usize>)> = Vec::new();
        for r in &enc.replaced {
            match groups.iter_mut().find(|g| g.0 == r.ch) {
                Some(g) => g.1.push(r.position),
                None => groups.push((r.ch, vec![r.position])),
            }
        }
        let parts: Vec<String> = groups
            .iter()
            .take(10)
            .map(|(ch, pos)| {
                let shown: Vec<String> = pos.iter().take(5).map(|p| p.to_string()).collect();
                let more = if pos.len() > 5 { format!(" (+{} more)", pos.len() - 5) } else { String::new() };
                format!("{ch:?} at {}{more}", shown.join(", "))
            })
            .collect();
        let more = if groups.len() > 10 { format!("; and {} more characters", groups.len() - 10) } else { String::new() };
        Err(Error::Tokenizer(format!(
            "{} character{} not in the model's vocabulary: {}{more}",
            groups.len(),
            if groups.len() == 1 { " is" } else { "s are" },
            parts.join("; ")
        )))
    }

    /// Encodes `text`, replacing unknown characters with [`Vocab::replacement`] and listing them.
    pub fn encode_lossy(&self, text: &str) -> Encoded {
        let fallback = self.id(self.replacement()).unwrap_or(0);
        let mut ids = Vec::with_capacity(text.len());
        let mut replaced = Vec::new();
        for (position, ch) in text.chars().enumerate() {
            ids.push(self.id(ch).unwrap_or_else(|| {
                replaced.push(Replaced { position, ch });
                fallback
            }));
        }
        Encoded { ids, replaced }
    }

    /// Decodes ids back to text; an id outside the vocabulary is an error.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        ids.iter()
            .enumerate()
            .map(|(i, &id)| {
                self.chars.get(id as usize).copied().ok_or_else(|| {
                    Error::Tokenizer(format!("token {id} at position {i} is outside the vocabulary of {}", self.chars.len()))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_is_sorted_unique_chars() {
        let v = Vocab::from_text("hello, world\n").unwrap();
        assert_eq!(v.as_string(), "\n ,dehlorw");
        assert_eq!(v.encode("hold").unwrap(), vec![5, 7, 6, 3]);
        assert_eq!(v.decode(&[5, 4, 6, 6, 7]).unwrap(), "hello");
        assert!(matches!(v.decode(&[10]), Err(Error::Tokenizer(m)) if m.contains("token 10 at position 0")));
        // Non-ASCII, repeated and astral characters: the sorted unique chars, as a sort finds them.
        let text = "ÿ日本 héllo 日本語 wörld 😀 Zürich\u{7f}\u{80}ÿ😀";
        let mut want: Vec<char> = text.chars().collect();
        want.sort_unstable();
        want.dedup();
        assert_eq!(Vocab::from_text(text).unwrap().as_string(), want.into_iter().collect::<String>());
    }

    #[test]
    fn unknown_characters_are_named_with_positions() {
        let v = Vocab::from_text("abc é").unwrap();
        let err = v.encode("abZ cZé!").unwrap_err().to_string();
        assert!(err.contains("2 characters are not"), "{err}");
        assert!(err.contains("'Z' at 2, 5"), "{err}");
        assert!(err.contains("'!' at 7"), "{err}");
        let enc = v.encode_lossy("abZ cZé!");
        assert_eq!(v.replacement(), ' ');
        assert_eq!(v.decode(&enc.ids).unwrap(), "ab  c é ");
        assert_eq!(enc.replaced, vec![
            Replaced { position: 2, ch: 'Z' },
            Replaced { position: 5, ch: 'Z' },
            Replaced { position: 7, ch: '!' }
        ]);
        // No space or newline: the first character stands in.
        assert_eq!(Vocab::from_text("xy").unwrap().replacement(), 'x');
    }

    #[test]
    fn bad_vocabularies_are_refused() {
        assert!(Vocab::from_text("").is_err());
        assert!(Vocab::from_chars(vec!['b', 'a']).is_err());
        assert!(Vocab::from_chars(vec!['a', 'a']).is_err());
    }
}
