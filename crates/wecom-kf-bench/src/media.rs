//! `wecom-kf-bench --media`: downloading 100 MB (issue 23), the client against a bare
//! hyper GET of the same bytes from the same server, in the same run.
//!
//! The emulator is a child process (`serve-media-emulator`) with a file-backed store
//! holding one customer's 100 MB file, so the heap measured here is the client's alone.
//! A file over 20 MiB is served only in `Range` chunks of at most 20 MiB, so the floor
//! asks for the same five chunks on one keep-alive connection and does nothing with the
//! bytes but count them (to a sink) or write them to a file through a 256 KiB
//! `BufWriter` (the plain way; the client writes each chunk from the `Bytes` hyper handed
//! over instead). The client is measured both ways: `download`'s stream read
//! to a sink, and `download_to` writing the file. Rounds alternate which goes first;
//! throughput is the median of the rounds.
//!
//! Peak heap is taken during each download (the highest and the lowest over the rounds)
//! and compared with two of hyper's read buffers. hyper reads a response into a
//! `BytesMut` and hands each chunk out of it (`split_to`), asking for up to 8 KiB + 100 ×
//! 4 KiB = 417,792 bytes a read (`DEFAULT_MAX_BUFFER_SIZE` in hyper 1's `proto/h1/io.rs`;
//! reqwest keeps hyper's default). That figure is not the buffer's size, though: when the
//! buffer is unique again but too small, `BytesMut::reserve` grows the `Vec` keeping the
//! bytes already handed out in front (bytes 1's `bytes_mut.rs`, `reserve_inner`), to
//! their length + 417,792 or double, so one read buffer is up to 835,584 bytes; and
//! at the end of each response hyper reads ahead on the idle connection into a fresh
//! buffer while the last chunk still holds the old one (`try_keep_alive`), so even the
//! floor holds two read buffers at once. The limit is therefore 2 × the largest single
//! allocation of the floor's counted download in the same run (nothing else that big is
//! allocated there: a debugger's backtraces of every allocation of ≥ 64 KiB in it were all
//! hyper's `poll_read_from_io`), never less than 2 × 417,792, which is printed beside it.
//! Each variant's largest allocation and its number of allocations of ≥ 64 KiB are
//! printed too, to see what its peak is made of.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use bytes::Bytes;
use futures_util::TryStreamExt as _;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt as _;
use wecom_kf_types::limits::MEDIA_CHUNK_MAX_BYTES;
use wecom_kf_types::media::GET_PATH;

use crate::{ALLOC, BoxError, Report, median};

/// The file: 100 MB (decimal, as the issue says); `--quick` uses 25 MB, still chunked.
const FULL_BYTES: u64 = 100_000_000;
const QUICK_BYTES: u64 = 25_000_000;
/// hyper 1's largest read buffer (`DEFAULT_MAX_BUFFER_SIZE`), which reqwest keeps.
const HYPER_READ_BUFFER: u64 = 8192 + 4096 * 100;
/// The floor's file writer's buffer (the client writes from the chunks it is handed).
const WRITE_BUFFER: usize = 256 * 1024;

/// The bytes of the file: a pattern that is not all one byte, cheap to make again to
/// check what was written.
fn content(len: u64) -> Vec<u8> {
    let mut state: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// The child: an emulator with a file-backed store and one customer's file; prints
/// `listening on URL MEDIA_ID` and serves until its stdin closes.
pub(crate) fn serve(args: &[String]) -> Result<(), BoxError> {
    let len: u64 = args.first().ok_or("serve-media-emulator LEN")?.parse()?;
    let dir = std::env::temp_dir().join(format!("wecom-kf-bench-media-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let served = runtime.block_on(async {
        let mut config = wecom_kf_emulator::Config::default();
        config.db = dir.join("emulator.db").display().to_string();
        config.calls_per_minute = u32::MAX;
        config.calls_per_hour = u32::MAX;
        let running = wecom_kf_emulator::spawn(config).await?;
        let emulator = running.emulator();
        let who = emulator.add_customer("基准客户")?;
        let (media_id, _) = emulator
            .customer_uploads(&who, "bench.mp4", "video/mp4", Bytes::from(content(len)))
            .await?;
        println!("listening on {} {media_id}", running.base_url());
        let mut line = String::new();
        let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
        running.shutdown().await;
        Ok::<_, BoxError>(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    served
}

struct Server {
    child: Child,
    base_url: String,
    media_id: String,
}

impl Server {
    fn start(len: u64) -> Result<Server, BoxError> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["serve-media-emulator", &len.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
        let (base_url, media_id) = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split_once(' '))
            .ok_or("the media emulator did not start")?;
        Ok(Server {
            base_url: base_url.to_owned(),
            media_id: media_id.to_owned(),
            child,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Where a download's bytes go.
enum Sink {
    /// Counted and dropped.
    Count,
    /// Written to this file.
    File(std::path::PathBuf),
}

/// The floor: the same `Range` chunks by bare hyper on one keep-alive connection.
async fn floor(base_url: &str, uri: &str, total: u64, sink: &Sink) -> Result<u64, BoxError> {
    let host = base_url.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(host).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut file = match sink {
        Sink::Count => None,
        Sink::File(path) => Some(tokio::io::BufWriter::with_capacity(
            WRITE_BUFFER,
            tokio::fs::File::create(path).await?,
        )),
    };
    let mut from = 0;
    while from < total {
        let last = (from + MEDIA_CHUNK_MAX_BYTES).min(total) - 1;
        let request = hyper::Request::get(uri)
            .header("host", host)
            .header("range", format!("bytes={from}-{last}"))
            .body(Empty::<Bytes>::new())?;
        let mut body = sender.send_request(request).await?.into_body();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                from += data.len() as u64;
                if let Some(file) = file.as_mut() {
                    file.write_all(&data).await?;
                }
            }
        }
    }
    if let Some(mut file) = file {
        file.flush().await?;
    }
    Ok(from)
}

/// The client: `download`'s stream to the sink, or `download_to` for a file.
async fn client(client: &wecom_kf::Client, media_id: &str, sink: &Sink) -> Result<u64, BoxError> {
    match sink {
        Sink::Count => {
            let mut download = client.media().download(media_id).await?;
            let mut got = 0;
            while let Some(chunk) = download.try_next().await? {
                got += chunk.len() as u64;
            }
            Ok(got)
        }
        Sink::File(path) => Ok(client.media().download_to(media_id, path).await?.len),
    }
}

/// One variant's figures over the rounds.
#[derive(Default)]
struct Figures {
    mb_per_s: Vec<f64>,
    /// The highest peak heap over the rounds (above where each download started).
    peak_heap: u64,
    /// Each round's peak heap.
    peaks: Vec<u64>,
    /// The largest single allocation over the rounds.
    largest: u64,
    /// Allocations of at least 64 KiB, per round.
    big: Vec<usize>,
}

impl Figures {
    /// Run one download, timed, with the peak heap it reached above where it started.
    async fn measure(
        &mut self,
        total: u64,
        download: impl Future<Output = Result<u64, BoxError>>,
    ) -> Result<(), BoxError> {
        let base = ALLOC.current_usage();
        ALLOC.reset_peak_usage();
        let started = Instant::now();
        let got = download.await?;
        let secs = started.elapsed().as_secs_f64();
        let peak = ALLOC.peak_usage().saturating_sub(base) as u64;
        let (largest, big) = (ALLOC.largest_allocation() as u64, ALLOC.big_allocations());
        if got != total {
            return Err(format!("downloaded {got} bytes of {total}").into());
        }
        #[allow(clippy::cast_precision_loss)] // 100 MB is far below 2^52
        self.mb_per_s.push(total as f64 / 1e6 / secs);
        self.peak_heap = self.peak_heap.max(peak);
        self.peaks.push(peak);
        self.largest = self.largest.max(largest);
        self.big.push(big);
        Ok(())
    }

    fn median(&self) -> f64 {
        median(self.mb_per_s.clone())
    }

    /// The fewest and the most big allocations of one download, as `a–b` (or `a`).
    fn big_range(&self) -> String {
        let (least, most) = (
            self.big.iter().min().copied().unwrap_or_default(),
            self.big.iter().max().copied().unwrap_or_default(),
        );
        if least == most {
            least.to_string()
        } else {
            format!("{least}–{most}")
        }
    }
}

/// Section 10: the 100 MB download.
pub(crate) fn run(quick: bool) -> Result<Report, BoxError> {
    let total = if quick { QUICK_BYTES } else { FULL_BYTES };
    let rounds = if quick { 2 } else { 7 };
    let server = Server::start(total)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let dir = std::env::temp_dir().join(format!("wecom-kf-bench-dl-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let outcome = runtime.block_on(measure(&server, total, rounds, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn measure(
    server: &Server,
    total: u64,
    rounds: usize,
    dir: &Path,
) -> Result<Report, BoxError> {
    let mut report = Report::default();
    let app = crate::client(&server.base_url)?;
    // The token is fetched before anything is timed, and the floor uses the same one.
    let token = app.token_provider().token().await?.expose().to_owned();
    let uri = format!(
        "{GET_PATH}?access_token={token}&media_id={}",
        server.media_id
    );
    let (floor_file, client_file) = (dir.join("floor.bin"), dir.join("client.bin"));
    let (floor_to_file, client_to_file) = (
        Sink::File(floor_file.clone()),
        Sink::File(client_file.clone()),
    );
    let mut figures: [Figures; 4] = Default::default();
    for round in 0..rounds {
        // Alternate which goes first: the machine is noisy and caches warm up.
        let order: [usize; 4] = if round % 2 == 0 {
            [0, 1, 2, 3]
        } else {
            [1, 0, 3, 2]
        };
        for which in order {
            let figure = &mut figures[which];
            match which {
                0 => {
                    figure
                        .measure(total, floor(&server.base_url, &uri, total, &Sink::Count))
                        .await?;
                }
                1 => {
                    figure
                        .measure(total, client(&app, &server.media_id, &Sink::Count))
                        .await?;
                }
                2 => {
                    figure
                        .measure(total, floor(&server.base_url, &uri, total, &floor_to_file))
                        .await?;
                }
                _ => {
                    // download_to resumes a part file and renames over nothing: start clean.
                    let _ = tokio::fs::remove_file(&client_file).await;
                    figure
                        .measure(total, client(&app, &server.media_id, &client_to_file))
                        .await?;
                }
            }
        }
    }
    // What was written is the file, byte for byte.
    let expected = content(total);
    let written = tokio::fs::read(&client_file).await?;
    report.check(
        "download_to wrote the file byte for byte",
        written == expected,
    );
    let floor_written = tokio::fs::read(&floor_file).await?;
    report.check("the floor wrote the same bytes", floor_written == expected);
    drop((expected, written, floor_written));
    tabulate(&mut report, &figures, total, rounds);
    Ok(report)
}

/// The section's tables: throughput and peak heap of each variant, and the ratios.
fn tabulate(report: &mut Report, figures: &[Figures; 4], total: u64, rounds: usize) {
    let [floor_sink, client_sink, floor_disk, client_disk] = figures;
    // The floor's largest allocation is its read buffer (it allocates nothing else that
    // big while counting bytes); hyper's nominal largest is the least it can be.
    let read_buffer = floor_sink.largest.max(HYPER_READ_BUFFER);
    let limit = 2 * read_buffer;
    report.line(format!(
        "\n## 10. Media download: {total} bytes in {} Range chunks of at most {MEDIA_CHUNK_MAX_BYTES} bytes, {rounds} rounds (medians)\n",
        total.div_ceil(MEDIA_CHUNK_MAX_BYTES)
    ));
    report.line(
        "| variant | MB/s (median) | runs | peak heap during the download (highest; lowest) | largest allocation | allocations ≥ 64 KiB per download |\n|---|---|---|---|---|---|",
    );
    for (name, figure) in [
        ("floor: bare hyper GETs, bytes counted", floor_sink),
        ("client: download() stream, bytes counted", client_sink),
        (
            "floor: bare hyper GETs, written through a 256 KiB buffer",
            floor_disk,
        ),
        (
            "client: download_to (each chunk written before the next is taken, part file, rename)",
            client_disk,
        ),
    ] {
        let runs: Vec<String> = figure.mb_per_s.iter().map(|v| format!("{v:.0}")).collect();
        report.line(format!(
            "| {name} | {:.0} | {} | {} bytes; {} | {} bytes | {} |",
            figure.median(),
            runs.join(", "),
            figure.peak_heap,
            figure.peaks.iter().min().copied().unwrap_or_default(),
            figure.largest,
            figure.big_range()
        ));
    }
    report.line(format!(
        "\nheap limit: 2 chunks' read buffers = 2 × the floor's largest read buffer in this run ({read_buffer} bytes; hyper's nominal largest is {HYPER_READ_BUFFER}, 2 × that = {}) = {limit} bytes; the file is {total} bytes\n",
        2 * HYPER_READ_BUFFER
    ));
    #[allow(clippy::cast_precision_loss)] // heap sizes far below 2^52
    let own = |figure: &Figures| figure.peak_heap as f64 / (2 * figure.largest.max(1)) as f64;
    report.line(format!(
        "(each variant's highest peak ÷ 2 × its own largest allocation: floor {:.2}, download() {:.2}, floor to a file {:.2}, download_to {:.2})\n",
        own(floor_sink),
        own(client_sink),
        own(floor_disk),
        own(client_disk)
    ));
    report.line("| ratio | value | target | |\n|---|---|---|---|");
    let stream_ratio = client_sink.median() / floor_sink.median();
    report.target(
        "download() stream ÷ floor, throughput",
        stream_ratio,
        stream_ratio >= 0.9,
        "≥ 0.9",
    );
    let file_ratio = client_disk.median() / floor_disk.median();
    report.target(
        "download_to ÷ floor to a file, throughput",
        file_ratio,
        file_ratio >= 0.9,
        "≥ 0.9",
    );
    #[allow(clippy::cast_precision_loss)] // heap sizes far below 2^52
    let heap = |figure: &Figures| figure.peak_heap as f64 / limit as f64;
    report.target(
        "download() peak heap ÷ 2 read buffers",
        heap(client_sink),
        client_sink.peak_heap < limit,
        "< 1",
    );
    report.target(
        "download_to peak heap ÷ 2 read buffers",
        heap(client_disk),
        client_disk.peak_heap < limit,
        "< 1",
    );
}
