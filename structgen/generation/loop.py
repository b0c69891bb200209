"""The constrained decoding loop: HF causal LM + KV cache + per-row :class:`Matcher` masks.

:class:`BatchDecoder` decodes a batch of prompts (left padded, attention mask, explicit position
ids) with a KV cache. Each step, per live row:

1. **mask + sample**: the row's logits are masked with its matcher's next-token bitmask
   (``fill_next_token_bitmask`` → ``apply_token_bitmask_inplace``) and a token is sampled
   (greedy / temperature / top-k / top-p, private seeded ``torch.Generator``);
2. **commit**: the token is committed to the matcher; a stop token (or a terminated matcher)
   ends the row;
3. **jump-forward**: the tokens the matcher forces next (``forced_tokens()``) are committed as
   *drafts* and fed to the model in the SAME forward pass as the sampled token, so a run of k
   forced tokens costs one forward instead of k. Rows feed chunks of different lengths,
   right-padded inside the chunk with attention-mask zeros;
4. **verify**: the forward returns logits at every draft position, so each draft is checked
   against the token the step-by-step loop would have picked there (same mask, same sampler,
   same RNG draw). The first disagreement rejects the rest of the run: the matcher rolls back,
   the rejected KV entries are masked out (attention-mask holes) and the step-by-step choice is
   committed instead. Output is therefore identical to step-by-step decoding (token for token;
   for one row even under seeded sampling) — forced tokens only ever save forward passes;
5. **overlap**: while the model runs a forward, a worker thread computes the masks the next
   step needs (the matchers' states are final for the step), hiding mask time behind the model.

A row whose constraint is complete and allows nothing but a stop token finishes without another
forward pass. A row that reaches ``max_new_tokens`` while its constraint cannot stop yet is
reported as incomplete (``GenerationResult.complete`` is False); the front doors turn that into
:class:`~structgen.errors.GenerationError` carrying the partial text — truncated output is never
returned as valid.
"""
from __future__ import annotations

import codecs
import inspect
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from structgen.errors import GenerationError
from structgen.generation.sampling import SamplingParams, sample_next

_mask_pool: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _mask_pool
    if _mask_pool is None:
        _mask_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="structgen-mask")
    return _mask_pool


@dataclass
class GenerationStats:
    """Counters and timings of one generation (timings are the whole batch's)."""

    prompt_tokens: int = 0
    output_tokens: int = 0          # generated tokens, forced ones included, stop token excluded
    forced_tokens: int = 0          # drafts accepted (each one is a forward pass saved)
    rejected_drafts: int = 0        # drafts the model disagreed with (rolled back)
    forward_passes: int = 0         # forward passes this row took part in (prefill included)
    stop_shortcuts: int = 0         # forward passes skipped because only a stop token was allowed
    ttft_s: float = 0.0             # time to the first sampled token (prefill + first mask)
    total_s: float = 0.0
    mask_s: float = 0.0             # time spent computing masks (whole batch)
    mask_wait_s: float = 0.0        # time the loop waited for masks after a forward (not hidden)

    @property
    def forward_passes_saved(self) -> int:
        return self.forced_tokens + self.stop_shortcuts

    @property
    def time_per_output_token_s(self) -> float:
        """Decode time per output token after the first (the TPOT of serving benchmarks)."""
        n = self.output_tokens
        return (self.total_s - self.ttft_s) / (n - 1) if n > 1 else 0.0

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["forward_passes_saved"] = self.forward_passes_saved
        d["time_per_output_token_s"] = self.time_per_output_token_s
        return d


@dataclass
class GenerationResult:
    """What one prompt produced.

    ``token_ids`` excludes the final stop token; ``data`` is the raw bytes of those tokens and
    ``text`` their UTF-8 decoding (invalid bytes replaced). ``finish_reason`` is ``"stop"`` (stop
    token or constraint finished) or ``"length"`` (``max_new_tokens`` reached). ``complete`` is
    False only when a constraint was active and could not stop yet.
    """

    text: str
    data: bytes
    token_ids: list[int]
    finish_reason: str
    complete: bool
    stats: GenerationStats = field(default_factory=GenerationStats)

    def check_complete(self) -> "GenerationResult":
        """Return self, or raise :class:`GenerationError` (with the partial text) if incomplete."""
        if not self.complete:
            raise GenerationError(
                f"max_new_tokens reached after {len(self.token_ids)} tokens before the constraint could "
                f"stop; partial output: {self.text[:200]!r}", partial_text=self.text)
        return self


def _supports_logits_to_keep(model) -> bool:
    try:
        return "logits_to_keep" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


class _Row:
    __slots__ = ("index", "matcher", "generated", "drafts", "draft_masks", "draft_cols", "logit_pos",
                 "chosen", "done", "finish_reason", "complete", "stats", "mask_ready", "next_pos", "emitted")

    def __init__(self, index: int, matcher, prompt_len: int):
        self.index = index
        self.matcher = matcher
        self.generated: list[int] = []
        self.drafts: list[int] = []           # committed, not yet verified forced tokens
        self.draft_masks: np.ndarray | None = None  # mask before each draft [n_drafts, words]
        self.draft_cols: list[int] = []       # attention-mask columns holding the drafts
        self.logit_pos: list[int] = []        # kept-logit index per draft, then the final one
        self.chosen: int | None = None        # token picked at a rejected draft position
        self.done = False
        self.finish_reason = ""
        self.complete = True
        self.stats = GenerationStats(prompt_tokens=prompt_len)
        self.mask_ready = False               # regular mask (state after the drafts) is filled
        self.next_pos = 0
        self.emitted = 0


class BatchDecoder:
    """Decodes one batch; iterate :meth:`steps` (or call :meth:`run`) to drive it.

    ``matchers[i]`` constrains prompt ``i`` (None: unconstrained; then a stop token or
    ``max_new_tokens`` ends the row). Matchers must not be terminated and must belong to a grammar
    compiled for ``lm.vocab`` (same mask width).
    """

    def __init__(self, lm, prompts: Sequence[Sequence[int]], matchers: Sequence[Any] | None = None, *,
                 max_new_tokens: int = 256, sampling: SamplingParams | None = None,
                 jump_forward: bool = True, overlap: bool = True):
        if not prompts:
            raise ValueError("no prompts")
        if max_new_tokens < 1:
            raise ValueError("max_new_tokens must be >= 1")
        self.lm = lm
        self.model = lm.model
        self.device = lm.device
        self.vocab = lm.vocab
        self.stop_ids = set(int(t) for t in self.vocab.stop_ids)
        self.prompts = [list(map(int, p)) for p in prompts]
        if any(len(p) == 0 for p in self.prompts):
            raise ValueError("empty prompt (a model needs at least one input token)")
        matchers = list(matchers) if matchers is not None else [None] * len(self.prompts)
        if len(matchers) != len(self.prompts):
            raise ValueError("one matcher (or None) per prompt")
        self.max_new_tokens = int(max_new_tokens)
        self.sampling = sampling or SamplingParams()
        self.jump_forward = jump_forward
        self.overlap = overlap
        self.rows = [_Row(i, m, len(p)) for i, (p, m) in enumerate(zip(self.prompts, matchers))]
        self.bitmask = None
        self.words = (int(self.vocab.vocab_size) + 31) // 32
        if any(m is not None for m in matchers):
            from structgen.masking import allocate_token_bitmask

            widths = {int(m.vocab_size) for m in matchers if m is not None}
            if widths != {int(self.vocab.vocab_size)}:
                raise ValueError(f"matcher mask width {widths} != model vocabulary width {self.vocab.vocab_size}")
            self.bitmask = allocate_token_bitmask(len(self.rows), self.vocab.vocab_size)
        self._logits_to_keep = _supports_logits_to_keep(self.model)
        self.forward_passes = 0
        self.mask_s = 0.0
        self.mask_wait_s = 0.0
        self.results: list[GenerationResult] = []

    # -- matcher side ------------------------------------------------------------------------
    def _commit(self, row: _Row, token: int) -> None:
        """Commit a sampled token to the row (matcher + output); stop tokens end the row."""
        m = row.matcher
        if m is not None:
            if not m.advance(token):
                raise GenerationError(f"internal error: the matcher rejected token {token} it had allowed",
                                      partial_text=self._text(row))
            if m.is_terminated():
                row.done, row.finish_reason = True, "stop"
                return
        elif token in self.stop_ids:
            row.done, row.finish_reason = True, "stop"
            return
        row.generated.append(token)

    def _add_drafts(self, row: _Row) -> None:
        """Jump-forward: commit the matcher's forced tokens as drafts (verified after the forward)."""
        if row.matcher is None or not self.jump_forward or row.done:
            return
        budget = self.max_new_tokens - len(row.generated)
        if budget <= 0:
            return
        forced = [int(t) for t in row.matcher.forced_tokens()[:budget]]
        for tok in forced:
            if tok in self.stop_ids or not row.matcher.advance(tok):
                break
            row.drafts.append(tok)
            row.generated.append(tok)
        row.draft_masks = None

    def _check_length(self, row: _Row) -> None:
        if row.done or row.drafts or len(row.generated) < self.max_new_tokens:
            return
        row.done, row.finish_reason = True, "length"
        if row.matcher is not None and not row.matcher.can_stop():
            row.complete = False

    def _fill_row_masks(self, row: _Row) -> None:
        """Fill the draft masks (state before each draft) and the regular mask (state after)."""
        m = row.matcher
        if row.drafts and row.draft_masks is None:
            n = len(row.drafts)
            masks = np.zeros((n, self.words), np.int32)
            m.rollback(n)
            for q, tok in enumerate(row.drafts):
                m.fill_next_token_bitmask(masks, q)
                if not m.advance(tok):  # pragma: no cover - drafts were accepted before
                    raise GenerationError("internal error: matcher replay of a draft failed")
            row.draft_masks = masks
        if not row.mask_ready:
            m.fill_next_token_bitmask(self.bitmask, row.index)
            row.mask_ready = True

    def _fill_masks(self, rows: list[_Row]) -> None:
        t0 = time.perf_counter()
        for row in rows:
            if row.matcher is not None:
                self._fill_row_masks(row)
        self.mask_s += time.perf_counter() - t0

    def _submit_masks(self, rows: list[_Row]):
        todo = [r for r in rows if r.matcher is not None and (not r.mask_ready or
                                                              (r.drafts and r.draft_masks is None))]
        if not todo:
            return None
        if self.overlap:
            return _pool().submit(self._fill_masks, todo)
        self._fill_masks(todo)
        return None

    def _wait_masks(self, fut) -> None:
        if fut is None:
            return
        t0 = time.perf_counter()
        fut.result()
        self.mask_wait_s += time.perf_counter() - t0

    def _only_stop_allowed(self, row: _Row) -> bool:
        """True when the constraint is complete and nothing but a stop token may follow."""
        m = row.matcher
        if m is None or not m.can_stop():
            return False
        t0 = time.perf_counter()
        m.fill_next_token_bitmask(self.bitmask, row.index)
        row.mask_ready = True
        self.mask_s += time.perf_counter() - t0
        words = self.bitmask[row.index]
        words = words.numpy() if isinstance(words, torch.Tensor) else np.asarray(words)
        allowed = np.flatnonzero(np.unpackbits(words.view(np.uint8), bitorder="little"))
        return all(int(t) in self.stop_ids for t in allowed)

    # -- model side --------------------------------------------------------------------------
    def _forward(self, input_ids, attention_mask, position_ids, past, keep: int):
        kwargs = dict(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                      past_key_values=past, use_cache=True)
        if self._logits_to_keep:
            kwargs["logits_to_keep"] = keep
        with torch.inference_mode():
            out = self.model(**kwargs)
        self.forward_passes += 1
        logits = out.logits
        if logits.shape[1] > keep:
            logits = logits[:, -keep:, :]
        return logits, out.past_key_values

    def _masked(self, logits: torch.Tensor, words) -> torch.Tensor:
        """``logits`` [n, V] (a new float tensor) with the bitmask rows ``words`` [n, W] applied."""
        from structgen.masking import apply_token_bitmask_inplace

        logits = logits.float().clone()
        if logits.shape[-1] != self.vocab.vocab_size:
            raise GenerationError(f"model produced {logits.shape[-1]} logits but the vocabulary is "
                                  f"{self.vocab.vocab_size} wide")
        if not isinstance(words, torch.Tensor):
            words = torch.from_numpy(np.ascontiguousarray(words))
        if logits.device.type != "cpu":
            words = words.to(logits.device, non_blocking=True)
        apply_token_bitmask_inplace(logits, words)
        return logits

    def _verify_and_sample(self, logits: torch.Tensor, live: list[_Row], generator) -> None:
        """Check each row's drafts against its logits, then sample the rows' next tokens.

        ``logits`` [n_live, keep, V]; ``row.logit_pos`` indexes the draft positions then the final
        one. Sets ``row.chosen`` for every row (the token to commit next).
        """
        final_rows = []
        for k, r in enumerate(live):
            r.chosen = None
            n = len(r.drafts)
            for q in range(n):
                pos_logits = logits[k, r.logit_pos[q]].unsqueeze(0)
                masked = self._masked(pos_logits, r.draft_masks[q:q + 1])
                pick = int(sample_next(masked, self.sampling, generator)[0])
                if pick != r.drafts[q]:
                    self._reject_drafts(r, q)
                    r.chosen = pick
                    break
                r.stats.forced_tokens += 1
            if r.chosen is None:
                r.drafts = []
                r.draft_masks = None
                final_rows.append(k)
        if not final_rows:
            return
        idx = torch.tensor(final_rows, dtype=torch.long, device=logits.device)
        pos = torch.tensor([live[k].logit_pos[-1] for k in final_rows], dtype=torch.long, device=logits.device)
        final = logits[idx, pos]
        constrained = [j for j, k in enumerate(final_rows) if live[k].matcher is not None]
        if constrained:
            bitmask_rows = [live[final_rows[j]].index for j in constrained]
            if len(constrained) == len(final_rows):
                final = self._masked(final, self.bitmask[bitmask_rows])
            else:
                final = final.float().clone()
                final[constrained] = self._masked(final[constrained], self.bitmask[bitmask_rows])
        picks = sample_next(final, self.sampling, generator).tolist()
        for k, tok in zip(final_rows, picks):
            live[k].chosen = int(tok)

    def _reject_drafts(self, r: _Row, q: int) -> None:
        """Drop drafts ``q:`` of row ``r``: roll the matcher back and mask their KV entries out."""
        n_rej = len(r.drafts) - q
        r.matcher.rollback(n_rej)
        del r.generated[len(r.generated) - n_rej:]
        for col in r.draft_cols[q:]:
            self._attn[self._live_pos[r.index], col] = 0
        r.next_pos -= n_rej
        r.stats.rejected_drafts += n_rej
        r.drafts = []
        r.draft_masks = None

    # -- the loop ----------------------------------------------------------------------------
    def steps(self) -> Iterator[list[tuple[int, list[int]]]]:
        """Run the decode; after each step yield ``[(prompt_index, new_token_ids), ...]``.

        Yielded tokens are final (verified drafts included, stop tokens excluded). When exhausted,
        :attr:`results` holds one :class:`GenerationResult` per prompt.
        """
        t_start = time.perf_counter()
        rows = self.rows
        generator = self.sampling.make_generator(self.device)
        for r in rows:
            self._add_drafts(r)   # forced tokens before anything is sampled (e.g. '{"')
        live = [r for r in rows if not r.done]
        ttft = None
        past = None
        if live:
            # Prefill: prompt + initial drafts, left padded; explicit position ids.
            feeds = [self.prompts[r.index] + r.drafts for r in live]
            width = max(len(f) for f in feeds)
            keep = 1 + max(len(r.drafts) for r in live)
            ids = torch.full((len(live), width), self.lm.pad_id, dtype=torch.long)
            attn = torch.zeros((len(live), width), dtype=torch.long)
            for k, (r, seq) in enumerate(zip(live, feeds)):
                ids[k, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
                attn[k, width - len(seq):] = 1
                r.next_pos = len(seq)
                n = len(r.drafts)
                r.draft_cols = list(range(width - n, width))
                r.logit_pos = list(range(keep - 1 - n, keep))
                r.stats.forward_passes += 1
            pos = (attn.cumsum(-1) - 1).clamp_min(0)
            self._attn = attn.to(self.device)
            self._live_pos = {r.index: k for k, r in enumerate(live)}
            fut = self._submit_masks(live)
            logits, past = self._forward(ids.to(self.device), self._attn, pos.to(self.device), past, keep)
            self._wait_masks(fut)
        while live:
            self._verify_and_sample(logits, live, generator)
            if ttft is None:
                ttft = time.perf_counter() - t_start
            step_out = []
            for r in live:
                r.mask_ready = False
                if len(r.generated) >= self.max_new_tokens and r.chosen not in self.stop_ids:
                    self._check_length(r)  # the budget was filled by accepted drafts
                else:
                    self._commit(r, r.chosen)
                    self._check_length(r)
                self._add_drafts(r)
                if not r.done and self._only_stop_allowed(r):
                    # Complete and nothing but a stop token may follow: the text is final
                    # (any drafts are forced bytes, so their tokenization cannot change it).
                    r.done, r.finish_reason = True, "stop"
                    r.stats.stop_shortcuts += 1
                    r.stats.forced_tokens += len(r.drafts)
                    r.drafts = []
                final = len(r.generated) - len(r.drafts)
                if final > r.emitted:
                    step_out.append((r.index, r.generated[r.emitted:final]))
                    r.emitted = final
            if step_out:
                yield step_out
            still = [k for k, r in enumerate(live) if not r.done]
            if not still:
                break
            if len(still) < len(live):
                sel = torch.tensor(still, dtype=torch.long, device=self.device)
                past.batch_select_indices(sel)
                self._attn = self._attn.index_select(0, sel)
                live = [live[k] for k in still]
                self._live_pos = {r.index: k for k, r in enumerate(live)}
            # Chunk: each row feeds its sampled token + drafts, right-padded to the longest.
            chunk = max(1 + len(r.drafts) for r in live)
            base = self._attn.shape[1]
            ids = torch.full((len(live), chunk), self.lm.pad_id, dtype=torch.long)
            new_attn = torch.zeros((len(live), chunk), dtype=torch.long)
            pos = torch.zeros((len(live), chunk), dtype=torch.long)
            for k, r in enumerate(live):
                feed = [r.chosen] + r.drafts
                n = len(feed)
                ids[k, :n] = torch.tensor(feed, dtype=torch.long)
                new_attn[k, :n] = 1
                pos[k] = torch.arange(r.next_pos, r.next_pos + chunk)
                r.next_pos += n
                r.draft_cols = list(range(base + 1, base + n))
                r.logit_pos = list(range(n))
                r.stats.forward_passes += 1
            self._attn = torch.cat([self._attn, new_attn.to(self.device)], dim=1)
            fut = self._submit_masks(live)
            logits, past = self._forward(ids.to(self.device), self._attn, pos.to(self.device), past, chunk)
            self._wait_masks(fut)
        self._finish(t_start, ttft)

    def _finish(self, t_start: float, ttft: float | None) -> None:
        total = time.perf_counter() - t_start
        self.results = []
        for r in self.rows:
            r.stats.output_tokens = len(r.generated)
            r.stats.ttft_s = ttft if ttft is not None else total
            r.stats.total_s = total
            r.stats.mask_s = self.mask_s
            r.stats.mask_wait_s = self.mask_wait_s
            if not r.finish_reason:
                r.finish_reason = "stop"
            data = self.vocab.decode(r.generated)
            self.results.append(GenerationResult(
                text=data.decode("utf-8", errors="replace"), data=data, token_ids=list(r.generated),
                finish_reason=r.finish_reason, complete=r.complete, stats=r.stats))

    def _text(self, row: _Row) -> str:
        return self.vocab.decode(row.generated).decode("utf-8", errors="replace")

    def run(self) -> list[GenerationResult]:
        for _ in self.steps():
            pass
        return self.results


def decode(lm, prompts: Sequence[Sequence[int]], matchers: Sequence[Any] | None = None, *,
           max_new_tokens: int = 256, sampling: SamplingParams | None = None, jump_forward: bool = True,
           overlap: bool = True) -> list[GenerationResult]:
    """Decode a batch of tokenized prompts (see :class:`BatchDecoder`); one result per prompt."""
    return BatchDecoder(lm, prompts, matchers, max_new_tokens=max_new_tokens, sampling=sampling,
                        jump_forward=jump_forward, overlap=overlap).run()


def stream_text(lm, prompt: Sequence[int], matcher=None, *, max_new_tokens: int = 256,
                sampling: SamplingParams | None = None, jump_forward: bool = True,
                overlap: bool = True) -> Iterator[str]:
    """Decode one prompt, yielding text chunks as tokens are final.

    Token bytes go through an incremental UTF-8 decoder, so a character split across tokens is
    yielded whole once complete. Raises :class:`GenerationError` at the end if ``max_new_tokens``
    was reached before the constraint could stop (after yielding the partial text).
    """
    decoder = BatchDecoder(lm, [prompt], [matcher], max_new_tokens=max_new_tokens, sampling=sampling,
                           jump_forward=jump_forward, overlap=overlap)
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for step in decoder.steps():
        for _, toks in step:
            chunk = utf8.decode(lm.vocab.decode(toks))
            if chunk:
                yield chunk
    tail = utf8.decode(b"", final=True)
    if tail:
        yield tail
    decoder.results[0].check_complete()
