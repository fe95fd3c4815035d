//! ghidanh-sbi against its simulator over real HTTP on loopback, and the capture parser
//! against hostile answers.

mod hostile;
mod http;
mod support;
