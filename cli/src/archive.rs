//! What `replay` keeps of the rollouts of a stream until it writes them.
//!
//! `--format json` and `--format text` write the rollouts at the end, in order of
//! start, each as it stands then; `text` also needs every line of each rollout's
//! block. A busy account's month is tens of thousands of rollouts and millions of
//! lines, so what is held in memory has a budget: past it, summaries and block lines
//! go to an unnamed temporary file (the system deletes it when the process ends,
//! however it ends) and come back one rollout at a time when written. In memory stays
//! a small slot per rollout: where its summary and its block's chunks are, and the
//! time it is ordered by. A stream within the budget never touches the disk.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use anyhow::Context;
use rollout_watcher::core::RolloutSummary;
use rollout_watcher::model::{DeploymentId, ServiceArn, Timestamp};

use crate::render::{Blocks, Mark};

/// How much is held in memory before it is written out.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Summaries (about 350 bytes each).
    pub summaries: usize,
    /// Bytes of block lines.
    pub marks: usize,
}

impl Default for Budget {
    /// About 1 MB of summaries (each with its strings) and 1 MB of block lines:
    /// beside a month's thousands of service states, more only raises the peak (4 MB
    /// of lines and 2 of summaries held the text month at 65 MiB, these at 60), and a
    /// summary or a chunk of lines spilled costs one sequential write and one read.
    fn default() -> Self {
        Self {
            summaries: 2_048,
            marks: 1 << 20,
        }
    }
}

/// Where one rollout's latest summary is.
#[derive(Debug)]
enum Summary {
    Held(Box<RolloutSummary>),
    Written(u64),
}

/// What is kept of one rollout.
#[derive(Debug, Default)]
struct Slot {
    /// `started_at`, else `finished_at`, of the latest summary: the output's order.
    order: Option<Timestamp>,
    /// None while only block lines were seen (such a rollout is not written).
    summary: Option<Summary>,
    /// The last chunk of its block written out; each chunk names the one before.
    marks: Option<u64>,
}

/// The rollouts of a replay and, for `text`, their blocks.
#[derive(Default)]
pub(crate) struct Archive {
    /// Service ARNs, each once: a slot's key holds the index.
    names: Vec<ServiceArn>,
    ids: HashMap<ServiceArn, u32>,
    /// A B-tree, not a hash table: a month holds tens of thousands of slots, and a
    /// table doubling near the end of the stream held its old and new arrays (about
    /// 5 and 10 MB) at once, where a tree grows a node at a time and lets go of its
    /// nodes as they are listed.
    slots: BTreeMap<(u32, DeploymentId), Slot>,
    /// Summaries in `slots` held in memory.
    held: usize,
    /// Block lines collected since they were last written out.
    pub(crate) blocks: Blocks,
    budget: Budget,
    spill: Spill,
}

impl Archive {
    /// Nothing kept yet; at most `budget` held in memory.
    pub(crate) fn with_budget(budget: Budget) -> Self {
        Self {
            budget,
            ..Self::default()
        }
    }

    fn id(&mut self, service: &ServiceArn) -> u32 {
        if let Some(id) = self.ids.get(service) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(service.clone());
        self.ids.insert(service.clone(), id);
        id
    }

    /// Keeps `r` as the latest summary of its rollout.
    pub(crate) fn put(&mut self, r: RolloutSummary) -> anyhow::Result<()> {
        let service = self.id(&r.service);
        let slot = self
            .slots
            .entry((service, r.deployment_id.clone()))
            .or_default();
        if !matches!(slot.summary, Some(Summary::Held(_))) {
            self.held += 1;
        }
        slot.order = r.started_at.or(r.finished_at);
        slot.summary = Some(Summary::Held(Box::new(r)));
        if self.held > self.budget.summaries {
            self.write_summaries()?;
        }
        Ok(())
    }

    fn write_summaries(&mut self) -> anyhow::Result<()> {
        for slot in self.slots.values_mut() {
            if let Some(Summary::Held(r)) = &slot.summary {
                let bytes = serde_json::to_vec(r).context("encoding a rollout summary")?;
                slot.summary = Some(Summary::Written(self.spill.append(NONE, &bytes)?));
            }
        }
        self.held = 0;
        Ok(())
    }

    /// Writes the block lines out when they hold more than their budget.
    pub(crate) fn mind_blocks(&mut self) -> anyhow::Result<()> {
        if self.blocks.held() <= self.budget.marks {
            return Ok(());
        }
        let drained: Vec<_> = self.blocks.drain().collect();
        for ((service, deployment), marks) in drained {
            let service = self.id(&service);
            let bytes = serde_json::to_vec(&marks).context("encoding a timeline block")?;
            let slot = self.slots.entry((service, deployment)).or_default();
            slot.marks = Some(self.spill.append(slot.marks.unwrap_or(NONE), &bytes)?);
        }
        Ok(())
    }

    /// The rollouts with a summary, in the output's order: by start (else end), then
    /// service and deployment. The tree goes as its slots are listed, into a list
    /// sized once, and the sort needs no buffer (the keys are distinct, so an
    /// unstable sort gives the one order): at the end of a month, each is megabytes.
    fn ordered(&mut self) -> Vec<((u32, DeploymentId), Slot)> {
        let slots = std::mem::take(&mut self.slots);
        let mut all = Vec::with_capacity(slots.len());
        all.extend(slots.into_iter().filter(|(_, slot)| slot.summary.is_some()));
        let names = &self.names;
        all.sort_unstable_by(|((sa, da), a), ((sb, db), b)| {
            (a.order, &names[*sa as usize], da).cmp(&(b.order, &names[*sb as usize], db))
        });
        all
    }

    /// Hands every rollout to `f`, in order, as it stands at the end, with its block's
    /// lines in the order they came (none unless blocks were collected); then gives
    /// back what is left of the blocks: the alerts of no rollout.
    pub(crate) fn each(
        mut self,
        mut f: impl FnMut(&RolloutSummary, &[Mark]) -> anyhow::Result<()>,
    ) -> anyhow::Result<Blocks> {
        let ordered = self.ordered();
        let mut reader = self.spill.reader()?;
        let mut marks: Vec<Mark> = Vec::new();
        let mut chunks = Vec::new();
        for ((service, deployment), slot) in ordered {
            let r = summary(&mut reader, slot.summary)?;
            marks.clear();
            chunks.clear();
            let mut next = slot.marks;
            while let Some(at) = next {
                let (before, bytes) = read(&mut reader, at)?;
                chunks.push(bytes);
                next = (before != NONE).then_some(before);
            }
            for bytes in chunks.iter().rev() {
                marks.extend(
                    serde_json::from_slice::<Vec<Mark>>(bytes)
                        .context("reading a timeline block back")?,
                );
            }
            marks.extend(self.blocks.take(&self.names[service as usize], &deployment));
            f(&r, &marks)?;
        }
        Ok(self.blocks)
    }
}

/// Marks a record with none before it.
const NONE: u64 = u64::MAX;

/// The temporary file, made when first needed. A record is the offset of the record
/// before it (or [`NONE`]), its length, then its bytes.
#[derive(Default)]
struct Spill {
    file: Option<BufWriter<File>>,
    end: u64,
}

impl Spill {
    fn append(&mut self, before: u64, bytes: &[u8]) -> anyhow::Result<u64> {
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(BufWriter::with_capacity(
                1 << 16,
                tempfile::tempfile()
                    .context("making a temporary file for the rollouts of a long replay")?,
            )),
        };
        let len = u32::try_from(bytes.len()).context("a record over 4 GB")?;
        let at = self.end;
        file.write_all(&before.to_le_bytes())
            .and_then(|()| file.write_all(&len.to_le_bytes()))
            .and_then(|()| file.write_all(bytes))
            .context("writing to the temporary file")?;
        self.end += 12 + u64::from(len);
        Ok(at)
    }

    /// The file, written out, to read the records back.
    fn reader(&mut self) -> anyhow::Result<Option<BufReader<File>>> {
        self.file
            .take()
            .map(|w| {
                w.into_inner()
                    .map_err(|e| e.into_error())
                    .context("writing to the temporary file")
                    .map(|f| BufReader::with_capacity(1 << 14, f))
            })
            .transpose()
    }
}

/// The record at `at`: the offset of the one before it, and its bytes.
fn read(reader: &mut Option<BufReader<File>>, at: u64) -> anyhow::Result<(u64, Vec<u8>)> {
    let r = reader
        .as_mut()
        .context("a record was written but the temporary file is gone")?;
    r.seek(SeekFrom::Start(at))
        .context("reading the temporary file")?;
    let mut head = [0u8; 12];
    r.read_exact(&mut head)
        .context("reading the temporary file")?;
    let (before, len) = head.split_at(8);
    let before = u64::from_le_bytes(before.try_into().context("record header")?);
    let len = u32::from_le_bytes(len.try_into().context("record header")?);
    let mut bytes = vec![0u8; len as usize];
    r.read_exact(&mut bytes)
        .context("reading the temporary file")?;
    Ok((before, bytes))
}

fn summary(
    reader: &mut Option<BufReader<File>>,
    s: Option<Summary>,
) -> anyhow::Result<RolloutSummary> {
    match s {
        Some(Summary::Held(r)) => Ok(*r),
        Some(Summary::Written(at)) => {
            let (_, bytes) = read(reader, at)?;
            serde_json::from_slice(&bytes).context("reading a rollout summary back")
        }
        None => anyhow::bail!("a rollout without a summary was ordered"),
    }
}
