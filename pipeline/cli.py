"""`python -m pipeline <command>`: the thin layer that dvc.yaml calls.

Commands read params.yaml, pick out plain arguments and call library functions; no library module
reads params.yaml itself, so every function can be used from a notebook with explicit arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from pipeline import paths
from pipeline.accounting import AllRejected
from pipeline.errors import UserError


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def source_options(params: dict[str, Any], name: str) -> dict[str, Any]:
    sources = params.get("sources") or {}
    if name not in sources:
        raise SystemExit(f"error: no source named {name!r} under `sources:` in params.yaml "
                         f"(known: {', '.join(sorted(sources)) or 'none'})")
    return dict(sources[name])


# --- execution (issue 9): where the per-article stages run; never what they write -----------------
def execution_settings(params: dict[str, Any]) -> Any:
    """`execution:` of params.yaml as pipeline.execution.ExecutionSettings (default: local).

    NEWSLENS_DASK_SCHEDULER=tcp://host:8786 selects the dask backend on that scheduler without editing
    params.yaml: a cluster's address changes from session to session and is no part of the results."""
    import os

    from pipeline.execution import ExecutionSettings

    block = dict(params.get("execution") or {})
    address = os.environ.get("NEWSLENS_DASK_SCHEDULER")
    if address:
        block["backend"] = "dask"
        block["dask"] = {**(block.get("dask") or {}), "scheduler": address}
    try:
        return ExecutionSettings.from_params(block)
    except (TypeError, ValueError) as exc:
        raise SystemExit(f"error: params.yaml `execution:`: {exc}") from exc
# --- end execution ---------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    from pipeline.ingest import SourcePathError, ingest_source

    params = load_params(args.params)
    options = source_options(params, args.source)
    cfg = params.get("ingest") or {}
    try:
        tally = ingest_source(
            args.source,
            options,
            out_path=paths.ingested(args.source),
            rejects_path=paths.ingest_rejects(args.source),
            metrics_path=paths.stage_metrics("ingest", args.source),
            root=".",
            max_chars=int(cfg.get("max_chars", 200_000)),
        )
    except SourcePathError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(tally.summary())
    return 0


def cmd_normalise(args: argparse.Namespace) -> int:
    from pipeline.normalise import NormaliseConfig, normalise_source

    params = load_params(args.params)
    source_options(params, args.source)
    tally = normalise_source(
        args.source,
        paths.ingested(args.source),
        paths.normalised(args.source),
        paths.normalise_rejects(args.source),
        paths.stage_metrics("normalise", args.source),
        NormaliseConfig.from_params(params.get("normalise") or {}),
        execution=execution_settings(params),
        n_process=stage_processes(args, params, "normalise"),
    )
    print(tally.summary())
    return 0


def cmd_build_models(args: argparse.Namespace) -> int:
    from pipeline.build_models import build_pipeline
    from pipeline.fetch import load_pins

    params = load_params(args.params)
    seg = params.get("segment") or {}
    manifest = build_pipeline(
        paths.MODEL_DIR,
        segmenter=seg.get("segmenter", "pkuseg"),
        kb_path=(params.get("kb") or {}).get("path", "data/kb"),
        extra_words=seg.get("user_words") or [],
        max_sentence_chars=int(seg.get("max_sentence_chars", 200)),
        pins=load_pins(),
    )
    print(f"built {paths.MODEL_DIR}: segmenter={manifest['segmenter']} user_words={manifest['user_words']} "
          f"kb_entries={manifest['kb_entries']}")
    return 0


def cmd_build_lexicons(args: argparse.Namespace) -> int:
    from pipeline import fetch, lexicons

    cfg = load_params(args.params).get("lexicons") or {}
    manifest = lexicons.build_lexicons(
        Path(cfg.get("out_dir", "models/lexicons")), fetch.load_pins(), fetch.DEFAULT_CACHE,
        Path(cfg.get("extra", "data/lexicons/news_extra.yaml")),
    )
    print("built lexicons: " + ", ".join(f"{k}={v}" for k, v in sorted(manifest["counts"].items())))
    return 0


def cmd_train_sentiment(args: argparse.Namespace) -> int:
    import json

    from pipeline.sentiment_learned import train_sentiment, write_disabled

    params = load_params(args.params)
    learned = dict(params.get("sentiment_learned") or {})
    model = learned.get("model", "models/sentiment_textcat")
    if not (learned.get("enabled", False) or args.force):
        write_disabled(model, "metrics/sentiment_learned.json")
        print(f"train_sentiment: disabled (sentiment_learned.enabled: false); wrote a marker to {model}")
        return 0
    metrics = train_sentiment(learned, model, ".", "metrics/sentiment_learned.json",
                              teacher_params=learned.get("teacher") or {})
    print(json.dumps(metrics, ensure_ascii=False, sort_keys=True)[:2000])
    return 0


# -- trainable NER (issue 8) ---------------------------------------------------------------------


def cmd_train_ner(args: argparse.Namespace) -> int:
    from pipeline import ner_train

    train = dict(((load_params(args.params).get("ner") or {}).get("train")) or {})
    if args.enable:
        train["enabled"] = True
    if args.max_steps is not None:
        train["max_steps"] = args.max_steps
    if not train.get("enabled"):
        metrics = ner_train.write_disabled(args.out, args.corpus_dir, args.metrics)
    else:
        from pipeline.nlp import load_nlp

        settings = ner_train.settings_from_params(train)
        metrics = ner_train.train_ner(settings, load_nlp(paths.MODEL_DIR), args.out, args.corpus_dir, args.metrics)
    print(ner_train.summary(metrics))
    return 0


def ner_model_choice(params: dict[str, Any], override: str | None = None) -> tuple[str, str]:
    """`ner.model` (lac | trained | both) and the trained model's directory."""
    from pipeline.ner_trained import DEFAULT_MODEL, MODEL_MODES

    choice = override or str((params.get("ner") or {}).get("model", "lac"))
    if choice not in MODEL_MODES:
        raise SystemExit(f"error: ner.model must be one of {', '.join(MODEL_MODES)}, not {choice!r}")
    return choice, str(DEFAULT_MODEL)


def _evaluate_models(args: argparse.Namespace, params: dict[str, Any]) -> tuple[str, str]:
    """`evaluate ner --model` is lac | trained | both (issue 8); a path there still means the built
    pipeline, as before, so existing commands keep working."""
    from pipeline.ner_trained import MODEL_MODES

    if args.model in MODEL_MODES:
        return args.pipeline_model or str(paths.MODEL_DIR), args.model
    return args.pipeline_model or args.model or str(paths.MODEL_DIR), ner_model_choice(params)[0]


# -- end trainable NER -----------------------------------------------------------------------------


def stage_processes(args: argparse.Namespace, params: dict[str, Any], stage: str) -> int:
    """`--n-process` if given, else `<stage>.n_process` in params.yaml, else 1."""
    return int(args.n_process or (params.get(stage) or {}).get("n_process", 1))


def cmd_segment(args: argparse.Namespace) -> int:
    from pipeline.segment import segment_source

    params = load_params(args.params)
    source_options(params, args.source)
    seg = params.get("segment") or {}
    tally = segment_source(
        args.source,
        paths.normalised(args.source),
        paths.segmented(args.source),
        paths.segment_rejects(args.source),
        paths.stage_metrics("segment", args.source),
        paths.MODEL_DIR,
        n_process=stage_processes(args, params, "segment"),
        part_size=int(seg.get("part_size", 500)),
        execution=execution_settings(params),
    )
    print(tally.summary())
    return 0


def _ner_params(params: dict[str, Any]) -> dict[str, Any]:
    from pipeline.company_matcher import DEFAULT_CUES

    ner = params.get("ner") or {}
    return {
        "kb_path": (params.get("kb") or {}).get("path", "data/kb"),
        "cues": ner.get("context_cues") or list(DEFAULT_CUES),
        "cue_window": int(ner.get("cue_window", 3)),
    }


def cmd_ner(args: argparse.Namespace) -> int:
    from pipeline.ner import ner_source

    params = load_params(args.params)
    source_options(params, args.source)
    tally = ner_source(
        args.source,
        paths.segmented(args.source),
        paths.entities(args.source),
        paths.unlinked(args.source),
        paths.stage_metrics("ner", args.source),
        paths.MODEL_DIR,
        n_process=stage_processes(args, params, "ner"),
        execution=execution_settings(params),
        **_ner_params(params),
        ner_model=ner_model_choice(params)[0],  # issue 8: lac | trained | both
        trained_path=ner_model_choice(params)[1],
    )
    print(tally.summary())
    return 0


def cmd_sentiment(args: argparse.Namespace) -> int:
    from pipeline.sentiment import SentimentConfig
    from pipeline.sentiment_stage import sentiment_source

    params = load_params(args.params)
    source_options(params, args.source)
    tally = sentiment_source(
        args.source,
        paths.segmented(args.source),
        paths.entities(args.source),
        paths.normalised(args.source),
        paths.sentiment(args.source),
        paths.stage_metrics("sentiment", args.source),
        (params.get("lexicons") or {}).get("out_dir", "models/lexicons"),
        SentimentConfig.from_params(params.get("sentiment") or {}),
        method=str((params.get("sentiment") or {}).get("method", "lexicon")),
        learned_model=(params.get("sentiment_learned") or {}).get("model", "models/sentiment_textcat"),
        learned_weight=float((params.get("sentiment") or {}).get("learned_weight", 0.5)),
        execution=execution_settings(params),
        n_process=stage_processes(args, params, "sentiment"),
    )
    print(tally.summary())
    return 0


def cmd_evaluate_gold(args: argparse.Namespace) -> int:
    import json

    from pipeline.artefacts import write_json
    from pipeline.evaluation.gold import evaluate_gold
    from pipeline.kb import load_kb

    params = load_params(args.params)
    kb = load_kb((params.get("kb") or {}).get("path", "data/kb"))
    sources = sorted(params.get("sources") or {})
    metrics = evaluate_gold(args.gold, [paths.sentiment(s) for s in sources], kb)
    write_json(args.out, metrics)
    print(json.dumps({k: metrics[k] for k in ("n", "accuracy", "macro_f1", "coverage")}))
    return 0


def cmd_fingerprint(args: argparse.Namespace) -> int:
    from pipeline.dedup import SHINGLE_SIZE
    from pipeline.fingerprint import fingerprint_source

    params = load_params(args.params)
    source_options(params, args.source)
    k = int((params.get("aggregate") or {}).get("shingle_size", SHINGLE_SIZE))
    n = fingerprint_source(paths.normalised(args.source), paths.fingerprints(args.source), k,
                           n_process=stage_processes(args, params, "fingerprint"))
    print(f"fingerprint@{args.source}: in={n} out={n} rejected=0")
    return 0


def cmd_aggregate(args: argparse.Namespace) -> int:
    from pipeline.aggregate import AggregateConfig, aggregate
    from pipeline.kb import load_kb

    params = load_params(args.params)
    sources = sorted(params.get("sources") or {})
    summary = aggregate(
        sources,
        [paths.sentiment(s) for s in sources],
        [paths.fingerprints(s) for s in sources],
        load_kb((params.get("kb") or {}).get("path", "data/kb")),
        AggregateConfig.from_params(params.get("aggregate") or {}),
        Path("data/aggregate"),
        Path("plots"),
        Path("metrics/summary.json"),
        eval_path=Path("metrics/eval.json"),
    )
    print("aggregate: " + ", ".join(f"{k}={v}" for k, v in summary.items() if not isinstance(v, dict)))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipeline.report import build_report

    cfg = load_params(args.params).get("report") or {}
    build_report(Path("data/aggregate"), Path("plots"), Path("metrics/summary.json"), Path(args.out),
                 top_n=int(cfg.get("top_n", 20)))
    print(f"report: {Path(args.out).resolve()}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from pipeline.compare import compare, format_comparison, read_at

    diff = compare(read_at(args.rev_a), read_at(args.rev_b))
    print(format_comparison(diff.head(args.top), args.rev_a, args.rev_b))
    return 0


def cmd_analyse(args: argparse.Namespace) -> int:
    from pipeline.analyse import analyse_text, format_json, format_table

    params = load_params(args.params)
    raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_bytes()
    result = analyse_text(raw, params, paths.MODEL_DIR)
    print(format_json(result) if args.json else format_table(result))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    if args.task == "segmentation":
        from pipeline.evaluation.segmentation import evaluate_segmentation
        from pipeline.nlp import load_nlp

        nlp = load_nlp(args.pipeline_model or args.model or paths.MODEL_DIR)
        cut = nlp.tokenizer.cut
        if args.baseline:
            from pipeline.segmenter import load_pkuseg

            core = nlp.tokenizer.core
            raw = load_pkuseg(core.pkuseg_dir, (), core.other_words)
            cut = raw.cut
        result = evaluate_segmentation(args.corpus, args.data_dir, cut, args.opencc, args.limit)
        result["segmenter"] = "raw-pkuseg" if args.baseline else "pipeline"
    elif args.task == "ner":
        from pipeline.evaluation.ner import chain_predictor, evaluate_ner, lac_predictor

        if not args.dataset:
            raise SystemExit("evaluate ner needs --dataset cfsc-ner | cluener | msra")
        params = load_params(args.params)
        pipeline_model, ner_model = _evaluate_models(args, params)
        if args.predictor == "lac":
            predict = lac_predictor()
        elif args.predictor == "trained":
            from pipeline.evaluation.ner import trained_predictor

            predict = trained_predictor(args.trained_model, pipeline_model)
        else:
            predict = chain_predictor(pipeline_model, unlinked_orgs=args.unlinked_orgs, ner_model=ner_model,
                                      trained_path=args.trained_model, **_ner_params(params))
        result = evaluate_ner(args.dataset, args.data_dir, predict, args.split, args.limit)
        result["predictor"] = args.predictor if args.predictor != "chain" else f"chain/{args.unlinked_orgs}"
        if args.predictor == "chain":
            result["model"] = ner_model
    elif args.task == "sentiment":
        from pipeline.evaluation.sentiment import evaluate_sentiment
        from pipeline.sentiment import SentimentConfig
        from pipeline.sentiment_target import TargetScorer, lexicon_predictor

        if not args.dataset:
            raise SystemExit("evaluate sentiment needs --dataset cfsc-absa | finnsp")
        params = load_params(args.params)
        sent = params.get("sentiment") or {}
        predictors = []
        if args.method in ("lexicon", "ensemble"):
            lexicon_dir = (params.get("lexicons") or {}).get("out_dir", "models/lexicons")
            scorer = TargetScorer(args.pipeline_model or args.model or paths.MODEL_DIR, lexicon_dir=lexicon_dir,
                                  cfg=SentimentConfig.from_params(sent),
                                  **_ner_params(params))
            predictors.append(lexicon_predictor(scorer))
        if args.method in ("learned", "ensemble"):
            from pipeline.sentiment_learned import LearnedScorer

            model = (params.get("sentiment_learned") or {}).get("model", "models/sentiment_textcat")
            predictors.append(LearnedScorer(model).predict)
        if args.method == "ensemble":
            from pipeline.evaluation.sentiment import ensemble_predictor

            weight = float(sent.get("learned_weight", 0.5))
            predict = ensemble_predictor(predictors, [1.0 - weight, weight], sent.get("positive_threshold", 0.15),
                                         sent.get("negative_threshold", -0.15))
        else:
            predict = predictors[0]
        result = evaluate_sentiment(args.dataset, args.data_dir, predict, args.split, args.limit)
        result["method"] = args.method
    else:
        raise SystemExit(f"unknown evaluation task {args.task!r}")
    print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from pipeline.show import show

    print(show(load_params(args.params)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="read one source into Article rows (+ rejects)")
    p.add_argument("source")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("normalise", help="script conversion and cleaning for one source")
    p.add_argument("source")
    p.add_argument("--n-process", type=int, default=None, help="override normalise.n_process")
    p.set_defaults(func=cmd_normalise)

    p = sub.add_parser("build-models", help="fetch pinned model files and build models/zh_pipeline")
    p.set_defaults(func=cmd_build_models)

    p = sub.add_parser("build-lexicons", help="fetch the pinned cntext wheel and build models/lexicons")
    p.set_defaults(func=cmd_build_lexicons)

    p = sub.add_parser("train-sentiment", help="the train_sentiment stage: train the learned sentiment model "
                       "(reads ../shared data by path) when sentiment_learned.enabled is true")
    p.add_argument("--force", action="store_true", help="train even if sentiment_learned.enabled is false")
    p.set_defaults(func=cmd_train_sentiment)

    p = sub.add_parser("train-ner", help="train the spaCy ner of ner.train (writes a marker when disabled)")
    p.add_argument("--enable", action="store_true", help="train even if ner.train.enabled is false")
    p.add_argument("--max-steps", type=int, default=None, help="override the training step budget")
    p.add_argument("--out", default="models/ner_trained")
    p.add_argument("--corpus-dir", default="data/ner_corpus")
    p.add_argument("--metrics", default="metrics/ner_trained.json")
    p.set_defaults(func=cmd_train_ner)

    p = sub.add_parser("segment", help="words and sentences for one source (DocBin parts)")
    p.add_argument("source")
    p.add_argument("--n-process", type=int, default=None, help="override segment.n_process")
    p.set_defaults(func=cmd_segment)

    p = sub.add_parser("ner", help="companies (KB + model) and PER/LOC/ORG for one source")
    p.add_argument("source")
    p.add_argument("--n-process", type=int, default=None, help="override ner.n_process")
    p.set_defaults(func=cmd_ner)

    p = sub.add_parser("sentiment", help="sentiment per (article, company) and per (article, group)")
    p.add_argument("source")
    p.add_argument("--n-process", type=int, default=None, help="override sentiment.n_process")
    p.set_defaults(func=cmd_sentiment)

    p = sub.add_parser("evaluate-gold", help="sentiment vs data/gold/sentiment.csv -> metrics/eval.json")
    p.add_argument("--gold", default="data/gold/sentiment.csv")
    p.add_argument("--out", default="metrics/eval.json")
    p.set_defaults(func=cmd_evaluate_gold)

    p = sub.add_parser("fingerprint", help="MinHash signatures of one source's articles (for near-duplicates)")
    p.add_argument("source")
    p.add_argument("--n-process", type=int, default=None, help="override fingerprint.n_process")
    p.set_defaults(func=cmd_fingerprint)
    p = sub.add_parser("aggregate", help="tables per group/company × source × period, dedup, movers, plots")
    p.set_defaults(func=cmd_aggregate)

    p = sub.add_parser("report", help="reports/index.html (static, no network) from the aggregate outputs")
    p.add_argument("--out", default="reports/index.html")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("compare", help="per-group deltas of mentions and net sentiment between two runs")
    p.add_argument("rev_a", help="git revision or experiment name (or 'workspace')")
    p.add_argument("rev_b", help="git revision or experiment name (or 'workspace')")
    p.add_argument("--top", type=int, default=30)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("analyse", help="the whole chain on one article, without DVC")
    p.add_argument("file", help="a text file, or - for stdin")
    p.add_argument("--json", action="store_true", help="one JSON object per company, one per line")
    p.set_defaults(func=cmd_analyse)

    p = sub.add_parser("evaluate", help="score a component against a public gold set (read by path)")
    p.add_argument("task", choices=["segmentation", "ner", "sentiment"])
    p.add_argument("--corpus", help="segmentation: pku | msr | cityu | as")
    p.add_argument("--dataset", help="ner: cfsc-ner | cluener | msra; sentiment: cfsc-absa | finnsp")
    p.add_argument("--split", default=None, help="ner: data set split (default: its test/dev split)")
    p.add_argument("--predictor", choices=["chain", "lac", "trained"], default="chain",
                   help="ner: the pipeline's chain (default), or LAC / the trained model alone, for comparison")
    p.add_argument("--method", choices=["lexicon", "learned", "ensemble"], default="lexicon",
                   help="sentiment: the lexicon scorer, the learned model (train-sentiment), or their mean")
    p.add_argument("--unlinked-orgs", choices=["suffix", "all", "none"], default="suffix",
                   help="ner chain: count unlinked model ORGs with company-like names as companies")
    p.add_argument("--data-dir", required=True, help="folder of the gold data set")
    p.add_argument("--model", default=None,
                   help="ner: lac | trained | both (default: ner.model in params); otherwise, or for the "
                        "other tasks, the built pipeline's directory (default: models/zh_pipeline)")
    p.add_argument("--pipeline-model", default=None, help="the built pipeline's directory (models/zh_pipeline)")
    p.add_argument("--trained-model", default="models/ner_trained", help="ner: the train_ner model directory")
    p.add_argument("--opencc", default=None, help="override the OpenCC configuration used for the corpus")
    p.add_argument("--limit", type=int, default=None, help="score only the first N gold lines")
    p.add_argument("--baseline", action="store_true",
                   help="segmentation: score raw pkuseg (default model and dictionary, no company words)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("show", help="print the result table of the last stage that has run")
    p.set_defaults(func=cmd_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pipeline.artefacts import skip_pandas_probe

    skip_pandas_probe()  # the stages that use pandas import it themselves; the others save the import
    try:
        return int(args.func(args) or 0)
    except AllRejected as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except UserError as exc:  # e.g. ner.model: trained without a trained model (issue 8)
        print(f"error: {exc}", file=sys.stderr)
        return 1
