//! Commented starter run cards, written by `otus card init zee|ttbar`.
//!
//! Each starter names every section a study needs, with the selection of
//! the paper's study and globs for the user's own matched files
//! (`data/zee_*.lhe.gz` with `data/zee_*.root`, ...), to be edited.

use std::path::Path;

use crate::Error;

/// The studies a starter card exists for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Study {
    /// Z -> e+ e- (two electrons of opposite charge, vetoes).
    Zee,
    /// Semileptonic t tbar (one e-, missing ET, four jets).
    Ttbar,
}

impl Study {
    /// The starter card's text (TOML with comments).
    pub fn card(self) -> &'static str {
        match self {
            Study::Zee => include_str!("starter/zee.toml"),
            Study::Ttbar => include_str!("starter/ttbar.toml"),
        }
    }

    /// The file name `otus card init` writes by default.
    pub fn file_name(self) -> &'static str {
        match self {
            Study::Zee => "zee.toml",
            Study::Ttbar => "ttbar.toml",
        }
    }
}

/// Writes the starter card of `study` to `path`; an existing file is
/// refused unless `force`.
pub fn write(study: Study, path: &Path, force: bool) -> Result<(), Error> {
    if path.exists() && !force {
        return Err(Error::Other(format!(
            "{}: exists; pass --force to overwrite it",
            path.display()
        )));
    }
    crate::frames::write_atomic(path, |f| {
        std::io::Write::write_all(f, study.card().as_bytes())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::RunCard;

    #[test]
    fn starters_parse_and_validate() {
        for study in [Study::Zee, Study::Ttbar] {
            let card = RunCard::parse(study.card()).unwrap();
            card.validate().unwrap_or_else(|e| panic!("{study:?}: {e}"));
            assert!(card.inputs.lhe.is_some() && card.inputs.delphes.is_some());
        }
    }
}
