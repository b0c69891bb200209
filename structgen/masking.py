"""Packed token bitmasks and applying them to logits (XGrammar/vLLM-compatible layout).

Layout: a bitmask is ``int32[batch, ceil(V / 32)]``; token ``t`` of row ``i`` is bit ``t % 32``
(least significant first) of word ``t // 32``; 1 = allowed. :func:`allocate_token_bitmask` fills
it with -1 (everything allowed); the Matcher's ``fill_next_token_bitmask`` overwrites rows.

:func:`apply_token_bitmask_inplace` sets every disallowed logit to ``-inf``:

- row ``i`` of ``logits`` uses row ``i`` of ``bitmask``; ``indices`` restricts the rows processed;
- bits beyond the logits' width are ignored; logits columns beyond the bitmask's coverage
  (``32 * words``) are disallowed;
- rows whose bitmask allows every covered column are skipped (no write);
- CPU: vectorized numpy/torch bit unpacking (no per-token loops); CUDA: a Triton kernel when Triton
  is importable (imported lazily, never on the CPU path; disable with ``STRUCTGEN_DISABLE_TRITON=1``),
  else the same vectorized torch ops on the device. A CPU bitmask is copied to the device with
  ``non_blocking=True`` (truly asynchronous when the bitmask is in pinned memory).
"""
from __future__ import annotations

import os
import sys
from typing import Sequence

import numpy as np
import torch

_NEG_INF = float("-inf")
_LITTLE_ENDIAN = sys.byteorder == "little"


def bitmask_words(vocab_size: int) -> int:
    """Number of int32 words per bitmask row: ``ceil(vocab_size / 32)``."""
    if vocab_size < 0:
        raise ValueError(f"vocab_size must be >= 0, got {vocab_size}")
    return (vocab_size + 31) // 32


def allocate_token_bitmask(batch: int, vocab_size: int) -> torch.Tensor:
    """A CPU ``int32`` tensor ``(batch, ceil(vocab_size / 32))`` filled with -1 (all tokens allowed)."""
    if batch < 0:
        raise ValueError(f"batch must be >= 0, got {batch}")
    return torch.full((batch, bitmask_words(vocab_size)), -1, dtype=torch.int32)


def bitmask_to_bool(bitmask: torch.Tensor | np.ndarray, vocab_size: int) -> torch.Tensor:
    """Unpack to a bool tensor ``(batch, vocab_size)`` (``(vocab_size,)`` for a 1-D bitmask), on the
    bitmask's device; ids beyond the bitmask's coverage are ``False``."""
    bm = _as_int32_tensor(bitmask)
    squeeze = bm.dim() == 1
    bm2 = bm.unsqueeze(0) if squeeze else bm
    covered = min(vocab_size, bm2.shape[1] * 32)
    out = torch.zeros((bm2.shape[0], vocab_size), dtype=torch.bool, device=bm2.device)
    if covered > 0:
        out[:, :covered] = _unpack_bits(bm2[:, :bitmask_words(covered)], covered)
    return out[0] if squeeze else out


def apply_token_bitmask_inplace(logits: torch.Tensor, bitmask: torch.Tensor | np.ndarray,
                                indices: Sequence[int] | torch.Tensor | None = None) -> None:
    """Set disallowed logits to ``-inf`` in place (see the module docstring for the contract).

    ``logits``: float32/bfloat16/float16, shape ``(batch, V')`` or ``(V',)``, CPU or CUDA.
    ``bitmask``: int32 tensor or numpy array, ``(rows, W)`` or ``(W,)``, with ``rows`` ≥ the logits
    rows used. ``indices``: logits rows to process (default: all). Raises ``ValueError`` /
    ``TypeError`` on bad shapes, dtypes or indices.
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError("logits must be a floating-point torch.Tensor")
    if logits.dim() not in (1, 2):
        raise ValueError(f"logits must be 1-D or 2-D, got shape {tuple(logits.shape)}")
    logits2 = logits.unsqueeze(0) if logits.dim() == 1 else logits
    bm = _as_int32_tensor(bitmask)
    bm2 = bm.unsqueeze(0) if bm.dim() == 1 else bm
    n_logit_rows, width = logits2.shape
    n_mask_rows, n_words = bm2.shape

    rows = _normalize_indices(indices, n_logit_rows, n_mask_rows)
    if rows is not None and rows.numel() == 0:
        return
    if rows is None and n_mask_rows < n_logit_rows:
        raise ValueError(f"bitmask has {n_mask_rows} rows but logits have {n_logit_rows}")
    if bm2.device != logits2.device:
        bm2 = bm2.to(logits2.device, non_blocking=True)

    if logits2.is_cuda and _triton_enabled() and logits2.stride(1) == 1:
        _apply_triton(logits2, bm2, rows)
        return
    _apply_torch(logits2, bm2, rows)


# ---------------------------------------------------------------------- implementation
def _as_int32_tensor(bitmask: torch.Tensor | np.ndarray) -> torch.Tensor:
    if isinstance(bitmask, np.ndarray):
        if bitmask.dtype != np.int32:
            raise TypeError(f"bitmask must be int32, got {bitmask.dtype}")
        bitmask = torch.from_numpy(bitmask)
    if not isinstance(bitmask, torch.Tensor):
        raise TypeError(f"bitmask must be a torch.Tensor or numpy array, got {type(bitmask).__name__}")
    if bitmask.dtype != torch.int32:
        raise TypeError(f"bitmask must be int32, got {bitmask.dtype}")
    if bitmask.dim() not in (1, 2):
        raise ValueError(f"bitmask must be 1-D or 2-D, got shape {tuple(bitmask.shape)}")
    return bitmask


def _normalize_indices(indices, n_logit_rows: int, n_mask_rows: int) -> torch.Tensor | None:
    """None (all rows) or a CPU int64 tensor of validated row ids."""
    if indices is None:
        return None
    rows = torch.as_tensor(indices, dtype=torch.int64, device="cpu").reshape(-1)
    if rows.numel():
        lo, hi = int(rows.min()), int(rows.max())
        limit = min(n_logit_rows, n_mask_rows)
        if lo < 0 or hi >= limit:
            raise ValueError(f"indices must lie in [0, {limit}) (logits rows {n_logit_rows}, "
                             f"bitmask rows {n_mask_rows}); got min {lo}, max {hi}")
    return rows


def _unpack_bits(words: torch.Tensor, width: int) -> torch.Tensor:
    """bool ``(rows, width)`` from int32 words ``(rows, ceil(width / 32))``."""
    n_rows = words.shape[0]
    if words.device.type == "cpu" and _LITTLE_ENDIAN:
        raw = words.contiguous().numpy().view(np.uint8)
        bits = np.unpackbits(raw, axis=1, count=width, bitorder="little")
        return torch.from_numpy(bits.view(np.bool_))
    if _LITTLE_ENDIAN:
        raw = words.contiguous().view(torch.uint8)
        shifts = torch.arange(8, dtype=torch.uint8, device=words.device)
        bits = (raw.unsqueeze(-1) >> shifts) & 1
    else:
        shifts = torch.arange(32, dtype=torch.int32, device=words.device)
        bits = (words.unsqueeze(-1) >> shifts) & 1
    return bits.reshape(n_rows, -1)[:, :width].bool()


def _rows_all_allowed(words: torch.Tensor, covered: int) -> torch.Tensor:
    """bool per row: every bit below ``covered`` is set."""
    full_words = covered // 32
    ok = (words[:, :full_words] == -1).all(dim=1)
    rem = covered % 32
    if rem:
        low = (1 << rem) - 1
        ok &= (words[:, full_words] & low) == low
    return ok


def _apply_torch(logits2: torch.Tensor, bm2: torch.Tensor, rows: torch.Tensor | None) -> None:
    width = logits2.shape[1]
    covered = min(width, bm2.shape[1] * 32)
    if rows is None:
        words = bm2[:logits2.shape[0], :bitmask_words(covered)]
        if covered < width:
            logits2[:, covered:] = _NEG_INF
    else:
        rows_dev = rows.to(bm2.device)
        words = bm2.index_select(0, rows_dev)[:, :bitmask_words(covered)]
        if covered < width:
            logits2[rows.to(logits2.device), covered:] = _NEG_INF
    if covered == 0:
        return

    if logits2.is_cuda:
        # No host sync on the device: all-allowed rows simply produce an all-False fill mask.
        allowed = _unpack_bits(words, covered)
        if rows is None:
            logits2[:, :covered].masked_fill_(~allowed, _NEG_INF)
        else:
            idx = rows.to(logits2.device)
            logits2[idx, :covered] = logits2[idx, :covered].masked_fill(~allowed, _NEG_INF)
        return

    need = ~_rows_all_allowed(words, covered)  # fast path: skip rows allowing everything
    if not bool(need.any()):
        return
    sel = need.nonzero().reshape(-1)
    allowed = _unpack_bits(words.index_select(0, sel), covered)
    target_rows = sel if rows is None else rows.index_select(0, sel)
    if target_rows.numel() == logits2.shape[0] and rows is None:
        logits2[:, :covered].masked_fill_(~allowed, _NEG_INF)
        return
    for k, r in enumerate(target_rows.tolist()):  # loop over batch rows, not over the vocabulary
        logits2[r, :covered].masked_fill_(~allowed[k], _NEG_INF)


# ---------------------------------------------------------------------- CUDA (Triton)
_TRITON_KERNEL = None


def _triton_enabled() -> bool:
    if os.environ.get("STRUCTGEN_DISABLE_TRITON", "") not in ("", "0"):
        return False
    return _get_triton_kernel() is not None


def _get_triton_kernel():
    """Compile-on-first-use Triton kernel; None when Triton is unavailable."""
    global _TRITON_KERNEL
    if _TRITON_KERNEL is None:
        try:
            import triton
            import triton.language as tl
        except ImportError:
            _TRITON_KERNEL = False
            return None

        @triton.jit
        def _apply_bitmask_kernel(logits_ptr, bitmask_ptr, indices_ptr, n_logit_cols, n_covered,
                                  logits_row_stride, bitmask_row_stride,
                                  HAS_INDICES: tl.constexpr, BLOCK: tl.constexpr):
            pid_row = tl.program_id(0)
            pid_block = tl.program_id(1)
            if HAS_INDICES:
                row = tl.load(indices_ptr + pid_row).to(tl.int64)
            else:
                row = pid_row.to(tl.int64)
            cols = pid_block * BLOCK + tl.arange(0, BLOCK)
            in_row = cols < n_logit_cols
            covered = cols < n_covered
            words = tl.load(bitmask_ptr + row * bitmask_row_stride + cols // 32,
                            mask=in_row & covered, other=0)
            bit = (words >> (cols % 32)) & 1
            disallowed = in_row & (bit == 0)
            neg_inf = tl.full([BLOCK], float("-inf"), logits_ptr.dtype.element_ty)
            tl.store(logits_ptr + row * logits_row_stride + cols, neg_inf, mask=disallowed)

        _TRITON_KERNEL = (triton, _apply_bitmask_kernel)
    return _TRITON_KERNEL or None


def _apply_triton(logits2: torch.Tensor, bm2: torch.Tensor, rows: torch.Tensor | None,
                  block: int = 4096) -> None:
    """Triton path; rows whose bits are all set issue no stores (the all-allowed fast path)."""
    triton, kernel = _get_triton_kernel()
    n_cols = logits2.shape[1]
    covered = min(n_cols, bm2.shape[1] * 32)
    bm2 = bm2.contiguous()
    if rows is None:
        n_rows = logits2.shape[0]
        idx = bm2  # unused placeholder pointer
    else:
        n_rows = rows.numel()
        idx = rows.to(device=logits2.device, dtype=torch.int32, non_blocking=True)
    grid = (n_rows, triton.cdiv(n_cols, block))
    kernel[grid](logits2, bm2, idx, n_cols, covered, logits2.stride(0), bm2.stride(0),
                 HAS_INDICES=rows is not None, BLOCK=block)
