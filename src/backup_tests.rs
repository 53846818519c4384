//! Unit tests of `backup.rs`: the stepped copy, its restarts, aborts and the destination rules.

use super::*;
use crate::open::open;
use crate::options::Settings;
use crate::test_support::temp_dir;
use std::rc::Rc;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn opened(path: &Path) -> Rc<Shared> {
    let opened = open(path.to_str().unwrap(), &Settings::default()).unwrap();
    Shared::new(opened.conn, false, None)
}

/// Runs a whole backup with steps of `pages`.
fn run(shared: &Shared, dest: &Path, overwrite: Option<bool>, pages: i32) -> Result<BackupResult> {
    let mut job = BackupJob::start(shared, dest.to_str().unwrap(), "main", 0o600, overwrite)?;
    while !job.done() {
        job.step(shared, pages)?;
    }
    job.finish()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_stepped_backup_is_verified_renamed_and_has_the_file_mode() {
    let dir = temp_dir("backup-steps");
    let db = opened(&dir.join("app.db"));
    db.with(|c| Ok(c.execute_batch("CREATE TABLE t(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40) INSERT INTO t SELECT randomblob(3000) FROM n")?)).unwrap();
    let dest = dir.join("copy.db");
    let mut job = BackupJob::start(&*db, dest.to_str().unwrap(), "main", 0o600, None).unwrap();
    let first = job.step(&*db, 0).unwrap();
    assert!(first.total_pages > 10);
    assert_eq!(first.remaining_pages, first.total_pages, "a step of 0 pages copies nothing");
    let second = job.step(&*db, 5).unwrap();
    assert_eq!(second.remaining_pages, first.total_pages - 5);
    assert!(!dest.exists(), "nothing at the destination before the end");
    while !job.done() {
        job.step(&*db, 5).unwrap();
    }
    let result = job.finish().unwrap();
    assert_eq!(result.total_pages, first.total_pages as i64);
    assert_eq!(result.bytes as u64, fs::metadata(&dest).unwrap().len());
    assert_eq!(mode(&dest), 0o600);
    let copy = Connection::open(&dest).unwrap();
    assert_eq!(copy.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).unwrap(), 40);
    drop(copy);
    assert_eq!(entries(&dir), ["app.db", "app.db-shm", "app.db-wal", "copy.db"]);
    db.close().unwrap();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_aborted_or_closed_backup_leaves_nothing() {
    let dir = temp_dir("backup-abort");
    let db = opened(&dir.join("app.db"));
    db.with(|c| Ok(c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(20000))")?)).unwrap();
    let mut job = BackupJob::start(&*db, dir.join("a.db").to_str().unwrap(), "main", 0o600, None).unwrap();
    job.step(&*db, 1).unwrap();
    drop(job);
    let mut job = BackupJob::start(&*db, dir.join("b.db").to_str().unwrap(), "main", 0o600, None).unwrap();
    job.step(&*db, 1).unwrap();
    db.close().unwrap();
    assert_eq!(job.step(&*db, 1).unwrap_err().code(), "HARDENED_NOT_OPEN");
    drop(job);
    assert_eq!(entries(&dir), ["app.db"]);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn writes_of_another_connection_restart_it_until_the_rest_is_copied_in_one_step() {
    let dir = temp_dir("backup-restart");
    let path = dir.join("app.db");
    let db = opened(&path);
    db.with(|c| Ok(c.execute_batch("CREATE TABLE t(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) INSERT INTO t SELECT randomblob(3000) FROM n")?)).unwrap();
    let writer = opened(&path);
    let dest = dir.join("copy.db");
    let mut job = BackupJob::start(&*db, dest.to_str().unwrap(), "main", 0o600, None).unwrap();
    let mut steps = 0;
    while !job.done() {
        writer.with(|c| Ok(c.execute("INSERT INTO t VALUES (randomblob(100))", [])?)).unwrap();
        job.step(&*db, 2).unwrap();
        steps += 1;
        assert!(steps < 100, "the backup never finished");
    }
    assert_eq!(job.restarts, MAX_RESTARTS);
    job.finish().unwrap();
    let copy = Connection::open(&dest).unwrap();
    let rows: i64 = copy.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
    assert!(rows > 50, "{rows}");
    drop(copy);
    writer.close().unwrap();
    db.close().unwrap();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_same_connection_writing_updates_the_copy_without_a_restart() {
    let dir = temp_dir("backup-same");
    let db = opened(&dir.join("app.db"));
    db.with(|c| Ok(c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(20000))")?)).unwrap();
    let dest = dir.join("copy.db");
    let mut job = BackupJob::start(&*db, dest.to_str().unwrap(), "main", 0o600, None).unwrap();
    job.step(&*db, 2).unwrap();
    db.with(|c| Ok(c.execute_batch("INSERT INTO t VALUES (randomblob(20000))")?)).unwrap();
    while !job.done() {
        job.step(&*db, 2).unwrap();
    }
    assert_eq!(job.restarts, 0);
    job.finish().unwrap();
    let copy = Connection::open(&dest).unwrap();
    assert_eq!(copy.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).unwrap(), 2);
    drop(copy);
    db.close().unwrap();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_transaction_pauses_it_and_refuses_a_start() {
    let dir = temp_dir("backup-tx");
    let db = opened(&dir.join("app.db"));
    db.with(|c| Ok(c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1)")?)).unwrap();
    let dest = dir.join("copy.db");
    let mut job = BackupJob::start(&*db, dest.to_str().unwrap(), "main", 0o600, None).unwrap();
    db.with(|c| Ok(c.execute_batch("BEGIN; INSERT INTO t VALUES (2)")?)).unwrap();
    let err = BackupJob::start(&*db, dir.join("other.db").to_str().unwrap(), "main", 0o600, None).err().unwrap();
    assert_eq!(err.code(), "HARDENED_IN_TRANSACTION");
    assert_eq!(job.step(&*db, -1).unwrap(), BackupProgress::default(), "nothing copied inside the transaction");
    assert!(!job.done());
    db.with(|c| Ok(c.execute_batch("ROLLBACK")?)).unwrap();
    job.step(&*db, -1).unwrap();
    job.finish().unwrap();
    let copy = Connection::open(&dest).unwrap();
    assert_eq!(copy.query_row("SELECT group_concat(x) FROM t", [], |r| r.get::<_, String>(0)).unwrap(), "1");
    drop(copy);
    db.close().unwrap();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_destination_rules_hold() {
    let dir = temp_dir("backup-dest-rules");
    let path = dir.join("app.db");
    let db = opened(&path);
    db.with(|c| Ok(c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1)")?)).unwrap();
    let code = |dest: &Path, overwrite| run(&db, dest, overwrite, 100).unwrap_err().code().to_string();
    assert_eq!(code(&dir.join("missing/copy.db"), None), "HARDENED_BACKUP_NO_DIRECTORY");
    assert_eq!(code(&path, Some(true)), "HARDENED_BACKUP_DESTINATION");
    let notes = dir.join("notes.txt");
    fs::write(&notes, "keep me").unwrap();
    assert_eq!(code(&notes, None), "SQLITE_NOTADB");
    assert_eq!(code(&notes, Some(false)), "HARDENED_BACKUP_EXISTS");
    assert_eq!(fs::read_to_string(&notes).unwrap(), "keep me");
    run(&db, &notes, Some(true), 100).unwrap();
    // An older backup (a database) is replaced by default, as better-sqlite3 does.
    run(&db, &notes, None, 100).unwrap();
    fs::write(sidecar(&notes, "-journal"), "hot").unwrap();
    assert_eq!(code(&notes, Some(true)), "HARDENED_BACKUP_DESTINATION");
    fs::remove_file(sidecar(&notes, "-journal")).unwrap();
    let err = BackupJob::start(&*db, dir.join("x.db").to_str().unwrap(), "nowhere", 0o600, None).err().unwrap();
    assert_eq!(err.code(), "SQLITE_ERROR");
    assert!(err.message().contains("nowhere"), "{}", err.message());
    assert_eq!(entries(&dir), ["app.db", "app.db-shm", "app.db-wal", "notes.txt"]);
    db.close().unwrap();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn restarts_are_told_from_growth() {
    let p = |total_pages, remaining_pages| BackupProgress { total_pages, remaining_pages };
    assert!(!restarted(p(10, 10), p(10, 5), 5));
    assert!(restarted(p(10, 5), p(10, 8), 5));
    assert!(!restarted(p(2, 1), p(7, 5), 1));
    assert!(restarted(p(10, 5), p(10, 10), 0));
    assert!(!restarted(p(10, 5), p(10, 0), -1));
}
