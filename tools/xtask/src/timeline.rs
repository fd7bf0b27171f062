//! The boot timeline: what the init queue, the FF-A client and the EL2
//! proxy did, and when, drawn from the decoded log as an SVG.
//!
//! Every kernel line carries the generic timer's timestamp (defmt's, in
//! microseconds). The init queue's boot log says when each entry was
//! probed and what came of it (`init: X deferred, waits on Y`, `init: X
//! ready`, `failed`, `timed out`, `unbound`: a driver with nothing to
//! drive) and when each condition was signalled (`init: condition Y
//! signalled`, among them `ffa-root-probed`, which the FF-A root signals
//! whether it comes up or fails, and on which partition drivers wait); the FF-A client logs every call at
//! `debug` level (`ffa call: FFA_VERSION -> ...`, kept when the kernel is
//! built with `capsule_ffa::conduit=debug` in `DEFMT_LOG`, as `--timeline`
//! does) and its milestones at `info`; protected mode logs each
//! finalisation step. [`Timeline::from_log`] reads these into one lane per
//! init-queue entry and per condition, a lane of FF-A calls, one of proxy
//! steps and one of boot milestones; [`Timeline::to_svg`] draws them: a bar
//! per state (waiting, ready, failed, unbound; not signalled, signalled) and a mark
//! per event, each with its log line as a tooltip. Marks carry
//! `data-lane`, `data-kind` and `data-time-us` so the picture can be read
//! back (the tests do).
//!
//! The timeline ends with the boot: events after the last init-queue,
//! proxy or boot line (console commands' FF-A calls, say) are left out.

use std::fmt::Write as _;

use svg::node::element::{Circle, Group, Line, Polygon, Rectangle, Text, Title};
use svg::Document;

/// What a lane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneKind {
    /// An init-queue entry.
    Entry,
    /// A readiness condition.
    Condition,
    /// FF-A calls and the client's milestones.
    Ffa,
    /// Protected mode: the EL2 proxy's finalisation.
    Proxy,
    /// Boot milestones.
    Boot,
}

impl LaneKind {
    /// The name used in `data-kind`.
    pub const fn name(self) -> &'static str {
        match self {
            LaneKind::Entry => "entry",
            LaneKind::Condition => "condition",
            LaneKind::Ffa => "ffa",
            LaneKind::Proxy => "proxy",
            LaneKind::Boot => "boot",
        }
    }
}

/// What a mark stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// The entry was probed and deferred.
    Deferred,
    /// The entry was probed and is ready.
    Ready,
    /// The entry failed.
    Failed,
    /// The entry timed out.
    TimedOut,
    /// The entry found nothing to drive (a driver whose partition is absent).
    Unbound,
    /// The condition was signalled.
    Signalled,
    /// One FF-A call.
    Call,
    /// A finalisation step of the EL2 proxy.
    Step,
    /// Anything else worth a mark (a driver's result, a client milestone).
    Note,
}

impl MarkKind {
    /// The name used in `data-kind`.
    pub const fn name(self) -> &'static str {
        match self {
            MarkKind::Deferred => "deferred",
            MarkKind::Ready => "ready",
            MarkKind::Failed => "failed",
            MarkKind::TimedOut => "timed-out",
            MarkKind::Unbound => "unbound",
            MarkKind::Signalled => "signalled",
            MarkKind::Call => "call",
            MarkKind::Step => "step",
            MarkKind::Note => "note",
        }
    }

    /// Colour of the mark, and of the state it starts (if any).
    const fn colour(self) -> &'static str {
        match self {
            MarkKind::Deferred => "#e0a526",
            MarkKind::Ready => "#3c9a48",
            MarkKind::Failed => "#d43d2a",
            MarkKind::TimedOut => "#8e1f20",
            MarkKind::Unbound => "#8a8f98",
            MarkKind::Signalled => "#2f78c4",
            MarkKind::Call => "#555555",
            MarkKind::Step => "#7b4fb0",
            MarkKind::Note => "#999999",
        }
    }

    /// The colour of the bar after a mark of this kind, if it starts a state.
    const fn state_colour(self) -> Option<&'static str> {
        match self {
            MarkKind::Deferred => Some("#f6dc9b"),
            MarkKind::Ready => Some("#b9e0bd"),
            MarkKind::Failed => Some("#f2b4aa"),
            MarkKind::TimedOut => Some("#d9a0a0"),
            MarkKind::Unbound => Some("#dfe2e6"),
            MarkKind::Signalled => Some("#b7d3f0"),
            _ => None,
        }
    }
}

/// One event on a lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// When, in microseconds of the kernel's clock.
    pub time_us: u64,
    /// What.
    pub kind: MarkKind,
    /// The log message it comes from.
    pub label: String,
}

/// One lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    /// The entry's or condition's name, or the lane's title.
    pub name: String,
    /// What it shows.
    pub kind: LaneKind,
    /// When it was first mentioned (a condition's unsignalled bar starts there).
    pub first_seen_us: u64,
    /// Its events, in time order.
    pub marks: Vec<Mark>,
}

/// The lanes of one boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// The first kernel timestamp.
    pub start_us: u64,
    /// The last event drawn.
    pub end_us: u64,
    /// The lanes: entries, conditions, then FF-A, proxy and boot.
    pub lanes: Vec<Lane>,
}

/// Name of the FF-A lane.
pub const FFA_LANE: &str = "FF-A calls";
/// Name of the proxy lane.
pub const PROXY_LANE: &str = "EL2 proxy finalisation";
/// Name of the boot lane.
pub const BOOT_LANE: &str = "boot";

/// The message of a decoded kernel line: without `[kernel]`, the level,
/// and the `(file:line)` location.
pub fn kernel_message(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("[kernel] ")?;
    let rest = ["TRACE ", "DEBUG ", "INFO ", "WARN ", "ERROR "]
        .iter()
        .find_map(|level| rest.strip_prefix(level))
        .unwrap_or(rest);
    Some(strip_location(rest))
}

/// `message (file.rs:12)` without the location.
fn strip_location(message: &str) -> &str {
    if let Some(open) = message.rfind(" (") {
        let location = &message[open + 2..];
        if let Some(inner) = location.strip_suffix(')') {
            if let Some((file, line)) = inner.rsplit_once(':') {
                if file.ends_with(".rs") && line.chars().all(|c| c.is_ascii_digit()) {
                    return &message[..open];
                }
            }
        }
    }
    message
}

/// Condition names of `a, b, c`.
fn condition_names(list: &str) -> impl Iterator<Item = &str> {
    list.split(", ")
        .map(str::trim)
        .filter(|name| !name.is_empty())
}

/// What one kernel message means for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event<'m> {
    Entry(&'m str, MarkKind, Vec<&'m str>),
    Condition(&'m str),
    Mentions(Vec<&'m str>),
    Lane(&'static str, LaneKind, MarkKind),
    Named(&'m str),
}

/// Reads one kernel message.
fn event(message: &str) -> Option<Event<'_>> {
    if let Some(rest) = message.strip_prefix("init: ") {
        if let Some(condition) = rest
            .strip_prefix("condition ")
            .and_then(|rest| rest.strip_suffix(" signalled"))
        {
            return Some(Event::Condition(condition));
        }
        let (name, what) = rest.split_once(' ')?;
        if let Some(list) = what.strip_prefix("deferred, waits on ") {
            return Some(Event::Entry(
                name,
                MarkKind::Deferred,
                condition_names(list).collect(),
            ));
        }
        if what == "ready" {
            return Some(Event::Entry(name, MarkKind::Ready, Vec::new()));
        }
        if what.starts_with("failed") || what.ends_with("marked failed") {
            return Some(Event::Entry(name, MarkKind::Failed, Vec::new()));
        }
        if what.starts_with("unbound") {
            return Some(Event::Entry(name, MarkKind::Unbound, Vec::new()));
        }
        if let Some(list) = what.strip_prefix("timed out waiting on ") {
            return Some(Event::Entry(
                name,
                MarkKind::TimedOut,
                condition_names(list).collect(),
            ));
        }
        if let Some(list) = what.strip_prefix("waits on ") {
            return Some(Event::Mentions(condition_names(list).collect()));
        }
        return None;
    }
    if message.starts_with("ffa call: ") {
        return Some(Event::Lane(FFA_LANE, LaneKind::Ffa, MarkKind::Call));
    }
    if message.starts_with("ffa: ") {
        return Some(Event::Lane(FFA_LANE, LaneKind::Ffa, MarkKind::Note));
    }
    if message.starts_with("protected: ")
        || message.starts_with("el2: ")
        || message.starts_with("el2 proxy: ")
    {
        return Some(Event::Lane(PROXY_LANE, LaneKind::Proxy, MarkKind::Step));
    }
    if message.starts_with("boot: ") {
        return Some(Event::Lane(BOOT_LANE, LaneKind::Boot, MarkKind::Note));
    }
    let (name, _) = message.split_once(": ")?;
    (!name.contains(' ')).then_some(Event::Named(name))
}

impl Timeline {
    /// Reads the boot from the decoded log and the kernel's timestamps of
    /// its lines (lines without a timestamp are not the kernel's).
    pub fn from_log(log: &[String], timestamps: &[Option<u64>]) -> Timeline {
        let timed: Vec<(u64, &str)> = log
            .iter()
            .zip(timestamps)
            .filter_map(|(line, time)| Some(((*time)?, kernel_message(line)?)))
            .collect();
        let start_us = timed.first().map_or(0, |(time, _)| *time);
        // The boot is over at the last line of the init queue, the proxy or boot.
        let end_us = timed
            .iter()
            .filter(|(_, message)| {
                matches!(
                    event(message),
                    Some(
                        Event::Entry(..)
                            | Event::Condition(_)
                            | Event::Mentions(_)
                            | Event::Lane(_, LaneKind::Proxy | LaneKind::Boot, _)
                    )
                )
            })
            .map(|(time, _)| *time)
            .max()
            .unwrap_or(start_us);
        let mut timeline = Timeline {
            start_us,
            end_us,
            lanes: Vec::new(),
        };
        let mut named: Vec<(u64, &str, &str)> = Vec::new();
        for &(time, message) in timed.iter().filter(|(time, _)| *time <= end_us) {
            match event(message) {
                Some(Event::Entry(name, kind, conditions)) => {
                    for condition in conditions {
                        timeline.lane(condition, LaneKind::Condition, time);
                    }
                    timeline.mark(name, LaneKind::Entry, time, kind, message);
                }
                Some(Event::Condition(name)) => timeline.mark(
                    name,
                    LaneKind::Condition,
                    time,
                    MarkKind::Signalled,
                    message,
                ),
                Some(Event::Mentions(conditions)) => {
                    for condition in conditions {
                        timeline.lane(condition, LaneKind::Condition, time);
                    }
                }
                Some(Event::Lane(name, kind, mark)) => {
                    timeline.mark(name, kind, time, mark, message)
                }
                Some(Event::Named(name)) => named.push((time, name, message)),
                None => {}
            }
        }
        // A line that starts with an entry's name (`ffa-echo: partition
        // 0x8001: ...`) is a note on that entry's lane.
        for (time, name, message) in named {
            if let Some(lane) = timeline
                .lanes
                .iter_mut()
                .find(|lane| lane.kind == LaneKind::Entry && lane.name == name)
            {
                lane.marks.push(Mark {
                    time_us: time,
                    kind: MarkKind::Note,
                    label: message.to_string(),
                });
                lane.marks.sort_by_key(|mark| mark.time_us);
            }
        }
        let order = |kind: LaneKind| match kind {
            LaneKind::Entry => 0,
            LaneKind::Condition => 1,
            LaneKind::Ffa => 2,
            LaneKind::Proxy => 3,
            LaneKind::Boot => 4,
        };
        timeline.lanes.sort_by_key(|lane| order(lane.kind));
        timeline
    }

    /// The lane called `name`, added if new.
    fn lane(&mut self, name: &str, kind: LaneKind, time_us: u64) -> &mut Lane {
        let index = match self
            .lanes
            .iter()
            .position(|lane| lane.name == name && lane.kind == kind)
        {
            Some(index) => index,
            None => {
                self.lanes.push(Lane {
                    name: name.to_string(),
                    kind,
                    first_seen_us: time_us,
                    marks: Vec::new(),
                });
                self.lanes.len() - 1
            }
        };
        &mut self.lanes[index]
    }

    fn mark(&mut self, name: &str, kind: LaneKind, time_us: u64, mark: MarkKind, label: &str) {
        self.lane(name, kind, time_us).marks.push(Mark {
            time_us,
            kind: mark,
            label: label.to_string(),
        });
    }

    /// How many marks there are.
    pub fn mark_count(&self) -> usize {
        self.lanes.iter().map(|lane| lane.marks.len()).sum()
    }

    /// The timeline as an SVG document; `title` goes on top.
    pub fn to_svg(&self, title: &str) -> String {
        const LABEL_WIDTH: f64 = 230.0;
        const PLOT_WIDTH: f64 = 960.0;
        const LANE_HEIGHT: f64 = 26.0;
        const TOP: f64 = 64.0;
        let width = LABEL_WIDTH + PLOT_WIDTH + 24.0;
        let height = TOP + LANE_HEIGHT * self.lanes.len() as f64 + 48.0;
        let span = (self.end_us.saturating_sub(self.start_us)).max(1) as f64;
        let x = |time: u64| {
            LABEL_WIDTH + (time.saturating_sub(self.start_us) as f64 / span) * PLOT_WIDTH
        };
        let millis = |time: u64| time.saturating_sub(self.start_us) as f64 / 1000.0;

        let mut document = Document::new()
            .set("viewBox", (0, 0, width, height))
            .set("width", width)
            .set("height", height)
            .set("font-family", "sans-serif")
            .set("font-size", 12)
            .add(
                Rectangle::new()
                    .set("width", width)
                    .set("height", height)
                    .set("fill", "white"),
            )
            .add(
                Text::new(title)
                    .set("class", "title")
                    .set("x", 12)
                    .set("y", 22)
                    .set("font-size", 15)
                    .set("font-weight", "bold"),
            );

        // The time axis, in milliseconds since the kernel's first line.
        let step = tick_step(span / 1000.0);
        let mut axis = Group::new().set("class", "axis");
        let mut tick = 0.0;
        while tick <= span / 1000.0 + 1e-9 {
            let position = LABEL_WIDTH + tick * 1000.0 / span * PLOT_WIDTH;
            axis = axis
                .add(
                    Line::new()
                        .set("x1", position)
                        .set("x2", position)
                        .set("y1", TOP - 6.0)
                        .set("y2", height - 40.0)
                        .set("stroke", "#e4e4e4"),
                )
                .add(
                    Text::new(format!("{tick:.*} ms", decimals(step)))
                        .set("x", position)
                        .set("y", TOP - 10.0)
                        .set("text-anchor", "middle")
                        .set("fill", "#666666"),
                );
            tick += step;
        }
        document = document.add(axis);

        for (index, lane) in self.lanes.iter().enumerate() {
            let top = TOP + LANE_HEIGHT * index as f64;
            let middle = top + LANE_HEIGHT / 2.0;
            let mut group = Group::new()
                .set("class", "lane")
                .set("data-lane", lane.name.as_str())
                .set("data-kind", lane.kind.name())
                .add(
                    Rectangle::new()
                        .set("x", 0)
                        .set("y", top)
                        .set("width", width)
                        .set("height", LANE_HEIGHT)
                        .set("fill", if index % 2 == 0 { "#fafafa" } else { "#f0f0f0" }),
                )
                .add(
                    Text::new(format!("{} {}", lane_prefix(lane.kind), lane.name))
                        .set("class", "lane-label")
                        .set("x", 10)
                        .set("y", middle + 4.0),
                );
            // State bars: from each state-changing mark to the next one,
            // saying what the state is where there is room.
            let mut bars: Vec<(u64, &'static str, String)> = Vec::new();
            if lane.kind == LaneKind::Condition {
                bars.push((lane.first_seen_us, "#e2e2e2", "not signalled".into()));
            }
            for mark in &lane.marks {
                if let Some(colour) = mark.kind.state_colour() {
                    bars.push((mark.time_us, colour, state_text(mark)));
                }
            }
            for (position, (from, colour, text)) in bars.iter().enumerate() {
                let to = bars.get(position + 1).map_or(self.end_us, |(to, _, _)| *to);
                let bar_width = (x(to) - x(*from)).max(1.5);
                group = group.add(
                    Rectangle::new()
                        .set("class", "state")
                        .set("x", x(*from))
                        .set("y", middle - 6.0)
                        .set("width", bar_width)
                        .set("height", 12)
                        .set("fill", *colour),
                );
                if bar_width > 16.0 + 6.5 * text.len() as f64 {
                    group = group.add(
                        Text::new(text.as_str())
                            .set("class", "state-text")
                            .set("x", x(*from) + 10.0)
                            .set("y", middle + 4.0)
                            .set("font-size", 10)
                            .set("fill", "#444444"),
                    );
                }
            }
            for mark in &lane.marks {
                let tooltip = format!("{:.3} ms: {}", millis(mark.time_us), mark.label);
                group = group.add(mark_shape(mark, x(mark.time_us), middle, tooltip));
            }
            document = document.add(group);
        }

        let mut legend = Group::new().set("class", "legend");
        let kinds = [
            MarkKind::Deferred,
            MarkKind::Ready,
            MarkKind::Failed,
            MarkKind::TimedOut,
            MarkKind::Unbound,
            MarkKind::Signalled,
            MarkKind::Call,
            MarkKind::Step,
            MarkKind::Note,
        ];
        for (index, kind) in kinds.iter().enumerate() {
            let left = 12.0 + 130.0 * index as f64;
            legend = legend
                .add(
                    Circle::new()
                        .set("cx", left + 5.0)
                        .set("cy", height - 18.0)
                        .set("r", 5)
                        .set("fill", kind.colour()),
                )
                .add(
                    Text::new(kind.name())
                        .set("x", left + 14.0)
                        .set("y", height - 14.0),
                );
        }
        document.add(legend).to_string()
    }
}

/// What the state a mark starts is, in a few words.
fn state_text(mark: &Mark) -> String {
    match mark.kind {
        MarkKind::Deferred => mark
            .label
            .split_once("deferred, ")
            .map_or("waiting".into(), |(_, waits)| waits.to_string()),
        MarkKind::Ready => "ready".into(),
        MarkKind::Failed => mark
            .label
            .split_once("failed")
            .map_or("failed".into(), |(_, why)| format!("failed{why}")),
        MarkKind::TimedOut => "timed out".into(),
        MarkKind::Unbound => "unbound: nothing to drive".into(),
        MarkKind::Signalled => "signalled".into(),
        _ => String::new(),
    }
}

/// The shape of a mark, with its data attributes and tooltip.
fn mark_shape(mark: &Mark, x: f64, y: f64, tooltip: String) -> Group {
    let shape: Box<dyn svg::Node> = match mark.kind {
        MarkKind::Signalled => Box::new(
            Polygon::new()
                .set(
                    "points",
                    format!(
                        "{},{} {},{} {},{} {},{}",
                        x,
                        y - 7.0,
                        x + 7.0,
                        y,
                        x,
                        y + 7.0,
                        x - 7.0,
                        y
                    ),
                )
                .set("fill", mark.kind.colour()),
        ),
        MarkKind::Call => Box::new(
            Rectangle::new()
                .set("x", x - 1.0)
                .set("y", y - 9.0)
                .set("width", 2)
                .set("height", 18)
                .set("fill", mark.kind.colour()),
        ),
        MarkKind::Step => Box::new(
            Polygon::new()
                .set(
                    "points",
                    format!(
                        "{},{} {},{} {},{}",
                        x - 6.0,
                        y + 6.0,
                        x + 6.0,
                        y + 6.0,
                        x,
                        y - 7.0
                    ),
                )
                .set("fill", mark.kind.colour()),
        ),
        MarkKind::Note => Box::new(
            Rectangle::new()
                .set("x", x - 3.0)
                .set("y", y - 3.0)
                .set("width", 6)
                .set("height", 6)
                .set("fill", mark.kind.colour()),
        ),
        _ => Box::new(
            Circle::new()
                .set("cx", x)
                .set("cy", y)
                .set("r", 5)
                .set("stroke", "white")
                .set("fill", mark.kind.colour()),
        ),
    };
    Group::new()
        .set("class", "mark")
        .set("data-kind", mark.kind.name())
        .set("data-time-us", mark.time_us)
        .add(Title::new(tooltip))
        .add(shape)
}

/// What a lane's label starts with.
const fn lane_prefix(kind: LaneKind) -> &'static str {
    match kind {
        LaneKind::Entry => "entry",
        LaneKind::Condition => "condition",
        LaneKind::Ffa | LaneKind::Proxy | LaneKind::Boot => "·",
    }
}

/// A round tick step (1, 2 or 5 times a power of ten) giving about ten ticks.
fn tick_step(span: f64) -> f64 {
    let rough = (span / 10.0).max(1e-3);
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|factor| factor * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power)
}

/// Decimals worth showing for ticks of `step`.
fn decimals(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    }
}

/// A one-line summary, for the runner's output.
pub fn summary(timeline: &Timeline) -> String {
    let mut text = String::new();
    let _ = write!(
        text,
        "{} lanes, {} marks over {:.3} ms",
        timeline.lanes.len(),
        timeline.mark_count(),
        timeline.end_us.saturating_sub(timeline.start_us) as f64 / 1000.0
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A protected-mode boot with a monitor that is not ready at first, as
    /// the runner decodes it (FF-A calls logged): the drivers wait on
    /// `ffa-root-probed`, one binds, one fails, one has nothing to drive;
    /// then a console command after the boot: (timestamp, line).
    const BOOT: &[(Option<u64>, &str)] = &[
        (None, "[secure] [fw] EL3 test firmware: PSCI, SMCCC, FF-A SPMD+SPMC model"),
        (Some(1_000), "[kernel] INFO boot: qemu-virt kernel entered at EL2, device tree at 0x40000000 (boards/qemu-virt/src/main.rs:55)"),
        (Some(1_200), "[kernel] console: ready"),
        (Some(1_300), "[kernel] INFO boot: entering the main loop (boards/qemu-virt/src/main.rs:108)"),
        (Some(1_400), "[kernel] INFO protected: the monitor is busy or not ready at step 1/5 (capsules/ffa-proxy/src/finaliser.rs:200)"),
        (Some(1_500), "[kernel] WARN init: ffa-proxy deferred, waits on secure-monitor-ready (kernel/src/init_queue/report.rs:53)"),
        (Some(1_600), "[kernel] WARN init: arm-ffa deferred, waits on secure-monitor-ready, proxy-finalised (kernel/src/init_queue/report.rs:53)"),
        (Some(1_700), "[kernel] WARN init: ffa-echo deferred, waits on ffa-root-probed (kernel/src/init_queue/report.rs:53)"),
        (Some(1_750), "[kernel] WARN init: ffa-tpm deferred, waits on ffa-root-probed (kernel/src/init_queue/report.rs:53)"),
        (Some(2_000), "[kernel] DEBUG ffa call: FFA_VERSION -> Error(NotReady) (capsules/ffa/src/conduit.rs:199)"),
        (Some(12_000), "[kernel] DEBUG ffa call: FFA_VERSION -> Value(65538) (capsules/ffa/src/conduit.rs:199)"),
        (Some(12_100), "[kernel] INFO ffa: secure monitor answers FF-A v1.2 after 2 polls (capsules/ffa/src/readiness.rs:224)"),
        (Some(12_200), "[kernel] INFO init: condition secure-monitor-ready signalled (kernel/src/init_queue/report.rs:72)"),
        (Some(12_300), "[kernel] INFO protected: finalisation HVC 1 done, next step 2/5 (capsules/ffa-proxy/src/finaliser.rs:180)"),
        (Some(12_900), "[kernel] INFO el2: proxy finalised with FF-A v1.2; host SMCs now trap to EL2 (capsules/ffa-proxy/src/finalisation.rs:90)"),
        (Some(13_000), "[kernel] INFO init: ffa-proxy ready (kernel/src/init_queue/report.rs:61)"),
        (Some(13_100), "[kernel] INFO init: condition proxy-finalised signalled (kernel/src/init_queue/report.rs:72)"),
        (Some(13_200), "[kernel] DEBUG ffa call: FFA_ID_GET -> Success(Bits32) (capsules/ffa/src/conduit.rs:199)"),
        (Some(13_300), "[kernel] INFO init: condition ffa-root-probed signalled (kernel/src/init_queue/report.rs:72)"),
        (Some(13_400), "[kernel] INFO init: arm-ffa ready (kernel/src/init_queue/report.rs:61)"),
        (Some(13_500), "[kernel] INFO init: condition ffa-root-ready signalled (kernel/src/init_queue/report.rs:72)"),
        (Some(13_600), "[kernel] INFO ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Skipped (capsules/ffa/src/drivers/echo.rs:195)"),
        (Some(13_700), "[kernel] ERROR init: ffa-echo failed: NODEVICE (kernel/src/init_queue/queue.rs:463)"),
        (Some(13_750), "[kernel] INFO ffa: ffa-tpm unbound: no partition implements its UUIDs (capsules/ffa/src/bus.rs:498)"),
        (Some(13_760), "[kernel] INFO init: ffa-tpm unbound: nothing to drive (kernel/src/init_queue/report.rs:63)"),
        (Some(13_800), "[kernel] INFO init: settled: 2 ready, 1 failed, 0 waiting, 0 timed out, 1 unbound (kernel/src/init_queue/report.rs:80)"),
        (Some(13_900), "[kernel] INFO boot: init queue settled (capsules/ffa/src/boot.rs:70)"),
        (Some(13_950), "[kernel] INFO boot: over: FfaReady (capsules/ffa/src/boot.rs:121)"),
        (Some(900_000), "[kernel] console> ffa ping 0x8001"),
        (Some(900_100), "[kernel] DEBUG ffa call: FFA_MSG_SEND_DIRECT_REQ_32 -> Function(DirectResponse32) (capsules/ffa/src/conduit.rs:199)"),
    ];

    fn boot() -> (Vec<String>, Vec<Option<u64>>) {
        BOOT.iter()
            .map(|(time, line)| (line.to_string(), *time))
            .unzip()
    }

    /// A lane as the picture shows it: name, kind, and its marks' kinds and times.
    type ReadLane = (String, String, Vec<(String, u64)>);

    /// What the picture says, read back.
    fn read_back(svg: &str) -> Vec<ReadLane> {
        let document = roxmltree::Document::parse(svg).expect("well-formed SVG");
        document
            .descendants()
            .filter(|node| node.attribute("class") == Some("lane"))
            .map(|lane| {
                let marks = lane
                    .descendants()
                    .filter(|node| node.attribute("class") == Some("mark"))
                    .map(|mark| {
                        (
                            mark.attribute("data-kind").unwrap().to_string(),
                            mark.attribute("data-time-us").unwrap().parse().unwrap(),
                        )
                    })
                    .collect();
                (
                    lane.attribute("data-lane").unwrap().to_string(),
                    lane.attribute("data-kind").unwrap().to_string(),
                    marks,
                )
            })
            .collect()
    }

    #[test]
    fn one_lane_per_entry_and_condition_then_calls_proxy_and_boot() {
        let (log, timestamps) = boot();
        let timeline = Timeline::from_log(&log, &timestamps);
        let lanes: Vec<(&str, LaneKind)> = timeline
            .lanes
            .iter()
            .map(|lane| (lane.name.as_str(), lane.kind))
            .collect();
        assert_eq!(
            lanes,
            [
                ("ffa-proxy", LaneKind::Entry),
                ("arm-ffa", LaneKind::Entry),
                ("ffa-echo", LaneKind::Entry),
                ("ffa-tpm", LaneKind::Entry),
                ("secure-monitor-ready", LaneKind::Condition),
                ("proxy-finalised", LaneKind::Condition),
                ("ffa-root-probed", LaneKind::Condition),
                ("ffa-root-ready", LaneKind::Condition),
                (FFA_LANE, LaneKind::Ffa),
                (PROXY_LANE, LaneKind::Proxy),
                (BOOT_LANE, LaneKind::Boot),
            ]
        );
        assert_eq!(timeline.start_us, 1_000);
        assert_eq!(
            timeline.end_us, 13_950,
            "the console's call is after the boot"
        );
        let echo = &timeline.lanes[2];
        let kinds: Vec<(MarkKind, u64)> = echo
            .marks
            .iter()
            .map(|mark| (mark.kind, mark.time_us))
            .collect();
        assert_eq!(
            kinds,
            [
                (MarkKind::Deferred, 1_700),
                (MarkKind::Note, 13_600),
                (MarkKind::Failed, 13_700)
            ]
        );
        let tpm: Vec<(MarkKind, u64)> = timeline.lanes[3]
            .marks
            .iter()
            .map(|mark| (mark.kind, mark.time_us))
            .collect();
        assert_eq!(
            tpm,
            [(MarkKind::Deferred, 1_750), (MarkKind::Unbound, 13_760)],
            "unbound is a state of its own, not a failure"
        );
        // The drivers' condition: signalled once the root had an outcome,
        // before the root's own ready.
        let probed = &timeline.lanes[6];
        assert_eq!(probed.first_seen_us, 1_700);
        assert_eq!(probed.marks.len(), 1);
        assert_eq!(
            (probed.marks[0].kind, probed.marks[0].time_us),
            (MarkKind::Signalled, 13_300)
        );
        let calls: Vec<u64> = timeline.lanes[8]
            .marks
            .iter()
            .filter(|mark| mark.kind == MarkKind::Call)
            .map(|mark| mark.time_us)
            .collect();
        assert_eq!(calls, [2_000, 12_000, 13_200]);
    }

    #[test]
    fn the_svg_reads_back_as_the_lanes_and_marks_of_the_log() {
        let (log, timestamps) = boot();
        let timeline = Timeline::from_log(&log, &timestamps);
        let svg = timeline.to_svg("Boot timeline: test");
        let read = read_back(&svg);
        let expected: Vec<ReadLane> = timeline
            .lanes
            .iter()
            .map(|lane| {
                (
                    lane.name.clone(),
                    lane.kind.name().to_string(),
                    lane.marks
                        .iter()
                        .map(|mark| (mark.kind.name().to_string(), mark.time_us))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(read, expected);
        // And against the log itself, read independently: every probe
        // result and signal of the init queue is a mark at its time.
        for (line, time) in log.iter().zip(&timestamps) {
            let Some(message) = line
                .strip_prefix("[kernel] ")
                .and_then(|rest| rest.split_once("init: "))
                .map(|(_, rest)| rest)
            else {
                continue;
            };
            let (lane, kind) = if let Some(rest) = message.strip_prefix("condition ") {
                (rest.split(' ').next().unwrap(), "signalled")
            } else if message.contains(" deferred, waits on ") {
                (message.split(' ').next().unwrap(), "deferred")
            } else if message.contains(" ready (") {
                (message.split(' ').next().unwrap(), "ready")
            } else if message.contains(" failed: ") {
                (message.split(' ').next().unwrap(), "failed")
            } else if message.contains(" unbound: ") {
                (message.split(' ').next().unwrap(), "unbound")
            } else {
                continue;
            };
            let found = read.iter().any(|(name, _, marks)| {
                name == lane && marks.contains(&(kind.to_string(), time.unwrap()))
            });
            assert!(
                found,
                "{kind} of {lane} at {time:?} is not in the picture: {line}"
            );
        }
        assert!(svg.contains("waits on secure-monitor-ready, proxy-finalised"));
    }

    #[test]
    fn messages_lose_their_prefix_level_and_location() {
        assert_eq!(
            kernel_message(
                "[kernel] INFO init: arm-ffa ready (kernel/src/init_queue/report.rs:61)"
            ),
            Some("init: arm-ffa ready")
        );
        assert_eq!(
            kernel_message("[kernel] console: ready"),
            Some("console: ready")
        );
        assert_eq!(
            kernel_message("[kernel] help: ffa info <id|uuid> - one partition (and more)"),
            Some("help: ffa info <id|uuid> - one partition (and more)")
        );
        assert_eq!(kernel_message("[secure] [fw] up"), None);
    }

    #[test]
    fn an_empty_log_draws_an_empty_timeline() {
        let timeline = Timeline::from_log(&[], &[]);
        assert!(timeline.lanes.is_empty());
        assert!(roxmltree::Document::parse(&timeline.to_svg("empty")).is_ok());
        assert_eq!(summary(&timeline), "0 lanes, 0 marks over 0.000 ms");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(220.0), 50.0);
        assert_eq!(tick_step(9.0), 1.0);
        assert_eq!(tick_step(0.9), 0.1);
        assert_eq!(decimals(0.1), 1);
        assert_eq!(decimals(50.0), 0);
    }
}
