"""Benchmarks: structgen's token-mask speed and correctness side by side with other engines.

Scripts (each has ``main(argv=None)`` and runs as ``python -m benchmarks.<name>`` or
``python benchmarks/<name>.py``):

- :mod:`benchmarks.regex_masks` -- compile time and per-token mask time for ~10 regexes.
- :mod:`benchmarks.cfg_masks` -- the same for the JSON and SQL Lark grammars of ``structgen.grammars``.
- :mod:`benchmarks.maskbench` -- the MaskBench method over JSON Schema corpora (pass/fail outcomes,
  time to first mask, time per mask), each schema isolated in a worker process.

Support modules: :mod:`benchmarks.engines` (one adapter per engine behind a common interface),
:mod:`benchmarks.stats` (percentiles and text tables), :mod:`benchmarks.common` (tokenizer loading,
thread settings, output files), :mod:`benchmarks.tokens` (exact token bytes / tokenization),
:mod:`benchmarks.walk` (teacher forcing with timed mask fills), :mod:`benchmarks.casebench`
(compile-and-walk measurement + side-by-side table), :mod:`benchmarks.grammars_ebnf` (Lark -> xgrammar
EBNF), :mod:`benchmarks.schema_data` (MaskBench / JSON Schema Test Suite loading),
:mod:`benchmarks.maskbench_eval` (one schema on one engine), :mod:`benchmarks.worker_pool` (isolated
worker processes with timeout and memory cap).

Results go to ``benchmarks/results/`` (gitignored). Every engine runs single-threaded.
"""
