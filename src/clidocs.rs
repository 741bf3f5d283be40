//! Shell completions and man pages, generated from the clap definition of the CLI, so
//! they never drift from the options the binary really accepts.

use std::path::Path;

/// Completion script for `shell`, for the command `cmd` (the binary's clap definition).
pub fn completions(mut cmd: clap::Command, shell: clap_complete::Shell) -> Vec<u8> {
    let name = cmd.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    out
}

/// The man pages of `cmd` and of each visible subcommand (`stackposture.1`,
/// `stackposture-audit.1`, `stackposture-checks-list.1`, ...), as (file name, roff).
pub fn man_pages(cmd: clap::Command) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    fn walk(cmd: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        let man = clap_mangen::Man::new(cmd.clone()).manual("stackposture manual");
        let mut page = Vec::new();
        man.render(&mut page)?;
        out.push((man.get_filename(), page));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub.clone(), out)?;
        }
        Ok(())
    }
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    walk(cmd, &mut out)?;
    Ok(out)
}

/// The top-level man page only (what `stackposture man` prints).
pub fn man_page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .manual("stackposture manual")
        .render(&mut page)?;
    Ok(page)
}

/// Writes every man page into `dir` (each atomically); returns the file names.
pub fn write_man_pages(cmd: clap::Command, dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for (name, page) in man_pages(cmd)? {
        crate::opfiles::write_atomic(&dir.join(&name), &page)?;
        names.push(name);
    }
    Ok(names)
}
