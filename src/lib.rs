//! otus: learn a fast detector simulator and unfolder from unpaired parton- and
//! detector-level events (OTUS; Howard, Mandt, Whiteson, Yang, Sci. Rep. 12,
//! 7567, 2022).

pub mod evaluate;
