"""Mask application: packed bitmasks applied to logits on CPU (and CUDA when present)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from structgen.masking import (allocate_token_bitmask, apply_token_bitmask_inplace, bitmask_to_bool,
                               bitmask_words)

DTYPES = [torch.float32, torch.bfloat16, torch.float16]


def naive_apply(logits: torch.Tensor, bitmask: torch.Tensor, indices=None) -> torch.Tensor:
    """Reference: per-element loop over the bit layout (token t = bit t%32 of word t//32)."""
    out = logits.clone()
    rows = range(logits.shape[0]) if indices is None else indices
    words = bitmask.tolist()
    for r in rows:
        for t in range(logits.shape[1]):
            w = t // 32
            allowed = w < len(words[r]) and (words[r][w] >> (t % 32)) & 1
            if not allowed:
                out[r, t] = float("-inf")
    return out


def random_bitmask(rows: int, words: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-2 ** 31, 2 ** 31 - 1, (rows, words), dtype=torch.int32, generator=g)


def test_allocate_and_words():
    assert bitmask_words(0) == 0 and bitmask_words(1) == 1 and bitmask_words(32) == 1 and bitmask_words(33) == 2
    bm = allocate_token_bitmask(3, 151936)
    assert bm.dtype == torch.int32 and bm.shape == (3, 4748) and bool((bm == -1).all())
    with pytest.raises(ValueError):
        bitmask_words(-1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("width,words", [(100, 4), (128, 4), (5, 1), (1000, 32)])
def test_matches_naive(dtype, width, words):
    logits = torch.randn(4, width).to(dtype)
    bm = random_bitmask(4, words, seed=width)
    bm[2] = -1  # an all-allowed row
    bm[3, 0] = 0
    expected = naive_apply(logits, bm)
    apply_token_bitmask_inplace(logits, bm)
    assert torch.equal(logits, expected)
    assert logits.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_indices(dtype):
    logits = torch.randn(5, 70).to(dtype)
    bm = random_bitmask(5, 3, seed=1)
    original = logits.clone()
    apply_token_bitmask_inplace(logits, bm, indices=[3, 1])
    expected = naive_apply(original, bm, indices=[3, 1])
    assert torch.equal(logits, expected)
    assert torch.equal(logits[[0, 2, 4]], original[[0, 2, 4]])  # untouched rows
    apply_token_bitmask_inplace(logits, bm, indices=torch.tensor([0]))
    assert torch.equal(logits[0], naive_apply(original, bm, indices=[0])[0])
    before = logits.clone()
    apply_token_bitmask_inplace(logits, bm, indices=[])
    assert torch.equal(logits, before)


def test_width_mismatch_bits_beyond_logits_ignored():
    logits = torch.zeros(2, 40)
    bm = torch.full((2, 4), -1, dtype=torch.int32)  # covers 128 ids
    bm[:, 1] = 0x0000_00FF  # ids 32..39 allowed, 40..63 disallowed but beyond logits
    bm[:, 2:] = 0
    apply_token_bitmask_inplace(logits, bm)
    assert bool(torch.isfinite(logits).all())


def test_width_mismatch_columns_beyond_bitmask_disallowed():
    logits = torch.zeros(2, 100)
    bm = torch.full((2, 2), -1, dtype=torch.int32)  # covers 64 ids only
    apply_token_bitmask_inplace(logits, bm)
    assert bool(torch.isfinite(logits[:, :64]).all())
    assert bool(torch.isneginf(logits[:, 64:]).all())
    # also with indices and an all-allowed fast-path row
    logits = torch.zeros(3, 100)
    apply_token_bitmask_inplace(logits, torch.full((3, 2), -1, dtype=torch.int32), indices=[1])
    assert bool(torch.isneginf(logits[1, 64:]).all()) and bool(torch.isfinite(logits[[0, 2]]).all())


def test_all_ones_fast_path_leaves_logits_untouched():
    logits = torch.randn(3, 150)
    original = logits.clone()
    bm = allocate_token_bitmask(3, 150)
    bm[:, -1] = 0x003F_FFFF  # only the 22 valid bits of the last word are set: still all allowed
    apply_token_bitmask_inplace(logits, bm)
    assert torch.equal(logits, original)


def test_one_dim_and_numpy_inputs():
    logits = torch.randn(70)
    bm = np.zeros(3, dtype=np.int32)
    bm[0] = 0b1010
    apply_token_bitmask_inplace(logits, bm)
    finite = torch.isfinite(logits).nonzero().reshape(-1).tolist()
    assert finite == [1, 3]


def test_bad_inputs():
    logits = torch.zeros(2, 64)
    with pytest.raises(TypeError):
        apply_token_bitmask_inplace(logits, torch.zeros(2, 2, dtype=torch.int64))
    with pytest.raises(TypeError):
        apply_token_bitmask_inplace(torch.zeros(2, 64, dtype=torch.int32), torch.zeros(2, 2, dtype=torch.int32))
    with pytest.raises(ValueError):
        apply_token_bitmask_inplace(logits, torch.zeros(1, 2, dtype=torch.int32))  # too few rows
    with pytest.raises(ValueError):
        apply_token_bitmask_inplace(logits, torch.zeros(2, 2, dtype=torch.int32), indices=[2])
    with pytest.raises(ValueError):
        apply_token_bitmask_inplace(logits, torch.zeros(2, 2, dtype=torch.int32), indices=[-1])


def test_bitmask_to_bool():
    bm = random_bitmask(3, 4, seed=7)
    out = bitmask_to_bool(bm, 100)
    assert out.dtype == torch.bool and out.shape == (3, 100)
    for r in range(3):
        for t in range(100):
            assert bool(out[r, t]) == bool((int(bm[r, t // 32]) >> (t % 32)) & 1)
    wide = bitmask_to_bool(bm, 200)
    assert torch.equal(wide[:, :128], bitmask_to_bool(bm, 128)) and not bool(wide[:, 128:].any())
    assert bitmask_to_bool(bm[0], 40).shape == (40,)


def test_cpu_path_does_not_import_triton():
    code = textwrap.dedent("""
        import sys, torch
        from structgen.masking import apply_token_bitmask_inplace
        apply_token_bitmask_inplace(torch.zeros(2, 64), torch.zeros(2, 2, dtype=torch.int32))
        assert "triton" not in sys.modules, "triton imported on the CPU path"
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.slow
def test_triton_kernel_in_interpreter():
    """The Triton kernel run by Triton's CPU interpreter agrees with the torch path."""
    pytest.importorskip("triton")
    code = textwrap.dedent("""
        import torch
        from structgen import masking as M
        for dtype in (torch.float32, torch.bfloat16, torch.float16):
            for width, words in [(100, 4), (100, 3), (70, 4), (5000, 157)]:
                logits = torch.randn(3, width).to(dtype)
                bm = torch.randint(-2**31, 2**31 - 1, (4, words), dtype=torch.int32)
                bm[1] = -1
                for rows in (None, torch.tensor([2, 0])):
                    a, b = logits.clone(), logits.clone()
                    M._apply_triton(a, bm, rows, block=64)
                    M._apply_torch(b, bm, rows)
                    assert torch.equal(a, b), (dtype, width, words, rows)
    """)
    env = dict(os.environ, TRITON_INTERPRET="1")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300, env=env)


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")


@pytest.mark.cuda
@cuda
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("triton", [True, False])
def test_cuda_matches_cpu(dtype, triton, monkeypatch):
    if not triton:
        monkeypatch.setenv("STRUCTGEN_DISABLE_TRITON", "1")
    for width, words, indices in [(151936, 4748, None), (151936, 4750, [2, 0]), (1000, 20, None)]:
        logits = torch.randn(4, width).to(dtype)
        bm = random_bitmask(4, words, seed=width)
        bm[1] = -1
        expected = logits.clone()
        apply_token_bitmask_inplace(expected, bm, indices=indices)
        gpu = logits.cuda()
        apply_token_bitmask_inplace(gpu, bm, indices=indices)  # CPU bitmask, moved non_blocking
        assert torch.equal(gpu.cpu(), expected)
        gpu = logits.cuda()
        apply_token_bitmask_inplace(gpu, bm.cuda(), indices=indices)
        assert torch.equal(gpu.cpu(), expected)
