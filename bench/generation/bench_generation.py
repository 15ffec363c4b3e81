"""Time to build one Factur-X PDF (build_facturx) on this machine.

    .venv/bin/python bench/generation/bench_generation.py [--invoices 50] [--rounds 2]

50 varied invoices (deterministic): 1 to 12 lines for most, a few of 25 and 50 lines,
several VAT rates, exemptions, credit notes, already-paid invoices; one in five carries
a JPEG photo (about 150 KB) and a one-page PDF. Each invoice is built ``--rounds`` times
after a warm-up; the report gives wall-clock and CPU time (``time.thread_time``) per
build, the split between stages, the first (cold) build, and the throughput with 1 and
2 worker threads and 2 worker processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

T0 = time.perf_counter()
from backend.invoices.generation import examples as ex  # noqa: E402
from backend.invoices.generation.model import CapturedInvoice  # noqa: E402

EXEMPT = {
    "vat_category": "E",
    "exemption_reason": "Exonération de TVA, article 261-4-4° a du CGI",
    "exemption_reason_code": "VATEX-FR-CGI261-4",
}


def make_invoices(count: int, seed: int = 2026) -> list[tuple[CapturedInvoice, list]]:
    rng = random.Random(seed)
    photo, scan = _photo(rng), _scan()
    result = []
    for i in range(count):
        n_lines = 50 if i % 25 == 7 else 25 if i % 10 == 3 else rng.randint(1, 12)
        lines = []
        for j in range(n_lines):
            rate = rng.choice(["20", "20", "20", "10", "5.5", "2.1"])
            extra = EXEMPT if (i % 9 == 4 and j == 0) else {}
            lines.append(
                ex.line(
                    f"Prestation {j + 1} : {rng.choice(['fourniture', 'pose', 'entretien', 'réparation'])} "
                    f"{rng.choice(['de menuiserie', 'de serrurerie', 'de mobilier scolaire', 'de portes coupe-feu'])}",
                    str(Decimal(rng.randint(1, 400)) / Decimal(rng.choice([1, 10, 100, 10000]))),
                    str(Decimal(rng.randint(1, 2_000_000)) / Decimal(rng.choice([100, 10000]))),
                    "0" if extra else rate,
                    unit_code=rng.choice(["C62", "C62", "HUR", "DAY", "MTR"]),
                    **extra,
                )
            )
        kind = i % 6
        overrides: dict = {"number": f"B2026-{i:04d}", "lines": lines}
        if kind == 1:
            overrides.update(
                type_code="381",
                due_date=None,
                preceding_invoice_number=f"B2025-{i:04d}",
                preceding_invoice_date=dt.date(2026, 1, 15),
            )
        elif kind == 2:
            overrides.update(billing_framework="A2", due_date=dt.date(2026, 2, 27))
        elif kind == 3:
            overrides.update(billing_framework=rng.choice(["A9", "A12"]), note="Marché n° 2025-118, lot 3.")
        attachments = (
            [("photo chantier.jpg", photo, "image/jpeg"), ("bon de livraison.pdf", scan, "application/pdf")]
            if i % 5 == 0
            else []
        )
        result.append((ex.invoice(**overrides), attachments))
    return result


def _photo(rng: random.Random) -> bytes:
    from PIL import Image

    image = Image.effect_noise((640, 480), 40).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _scan() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def row(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"| {label} | {len(ms)} | {statistics.mean(ms):.0f} | {pct(ms, 50):.0f} | {pct(ms, 95):.0f} | {max(ms):.0f} |"


def _build(item) -> int:
    from backend.invoices.generation import build_facturx

    invoice, attachments = item
    return len(build_facturx(invoice, attachments))


def _worker_init() -> None:
    from backend.invoices.generation import warm_up

    warm_up()


def stages(invoice: CapturedInvoice, attachments: list) -> dict[str, float]:
    import facturx

    from backend.invoices.generation import pdf
    from backend.invoices.generation.cii import _cii_unchecked
    from backend.invoices.generation.model import ensure_valid
    from backend.invoices.generation.totals import compute_totals

    marks = {}
    t = time.perf_counter()
    ensure_valid(invoice)
    prepared = pdf.prepare_attachments(attachments)
    totals = compute_totals(invoice)
    xml = _cii_unchecked(invoice, totals, attachment_names=list(prepared))
    marks["check + totals + CII XML (+XSD)"] = time.perf_counter() - t
    t = time.perf_counter()
    html = pdf.render_html(invoice, totals, list(prepared))
    marks["Jinja HTML"] = time.perf_counter() - t
    t = time.perf_counter()
    raw = pdf.render_pdf(html)
    marks["WeasyPrint layout + PDF/A-3b"] = time.perf_counter() - t
    t = time.perf_counter()
    facturx.generate_from_binary(
        raw, xml, flavor="factur-x", level="en16931", check_xsd=False, attachments=prepared, lang="fr-FR"
    )
    marks["factur-x embedding (pypdf)"] = time.perf_counter() - t
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-tags", action="store_true", help="untagged PDF (pdf.PDF_TAGS = False)")
    parser.add_argument("--no-pools", action="store_true", help="skip the thread / process throughput part")
    args = parser.parse_args()
    if args.no_tags:
        from backend.invoices.generation import pdf

        pdf.PDF_TAGS = False

    items = make_invoices(args.invoices)
    from backend.invoices.generation import build_facturx, warm_up  # noqa: F401

    t = time.perf_counter()
    cold_size = _build(items[1])
    cold = time.perf_counter() - t
    import_time = t - T0
    warm_up()

    wall: list[float] = []
    cpu: list[float] = []
    by_size: dict[str, list[float]] = {
        "1-12 lignes": [],
        "25 lignes": [],
        "50 lignes": [],
        "avec 2 pièces jointes": [],
    }
    sizes: list[int] = []
    for _ in range(args.rounds):
        for invoice, attachments in items:
            w, c = time.perf_counter(), time.thread_time()
            sizes.append(len(build_facturx(invoice, attachments)))
            c, w = time.thread_time() - c, time.perf_counter() - w
            wall.append(w)
            cpu.append(c)
            key = (
                "avec 2 pièces jointes"
                if attachments
                else (
                    "50 lignes"
                    if len(invoice.lines) == 50
                    else "25 lignes" if len(invoice.lines) == 25 else "1-12 lignes"
                )
            )
            by_size[key].append(w)

    split: dict[str, list[float]] = {}
    for invoice, attachments in items:
        for name, value in stages(invoice, attachments).items():
            split.setdefault(name, []).append(value)

    throughput = {}
    for label, pool_factory in (
        ()
        if args.no_pools
        else (
            ("1 thread", lambda: ThreadPoolExecutor(1, initializer=_worker_init)),
            ("2 threads", lambda: ThreadPoolExecutor(2, initializer=_worker_init)),
            ("2 processes", lambda: ProcessPoolExecutor(2, initializer=_worker_init)),
        )
    ):
        with pool_factory() as pool:
            list(pool.map(_build, items[:4]))  # warm every worker
            t = time.perf_counter()
            list(pool.map(_build, items))
            throughput[label] = len(items) / (time.perf_counter() - t)

    import pydyf
    import weasyprint
    from weasyprint.text.ffi import pango

    print(
        f"python {platform.python_version()}, weasyprint {weasyprint.__version__}, pydyf {pydyf.__version__}, "
        f"pango {pango.pango_version()}, {os.cpu_count()} CPU, load average {os.getloadavg()[0]:.2f} at the end"
    )
    print(
        f"invoices: {args.invoices} x {args.rounds} rounds; PDF size median {statistics.median(sizes) / 1024:.0f} KB"
    )
    print(
        f"import of the package + WeasyPrint: {import_time * 1000:.0f} ms; first build (cold: fonts, XSD, code lists): "
        f"{cold * 1000:.0f} ms ({cold_size // 1024} KB)"
    )
    print()
    print("| build_facturx | n | mean ms | p50 | p95 | max |")
    print("|---|---|---|---|---|---|")
    print(row("wall clock, all", wall))
    print(row("CPU (thread_time), all", cpu))
    for label, values in by_size.items():
        if values:
            print(row(f"wall clock, {label}", values))
    print()
    print("| stage (wall clock) | n | mean ms | p50 | p95 | max |")
    print("|---|---|---|---|---|---|")
    for name, values in split.items():
        print(row(name, values))
    print()
    print("| workers | invoices/s |")
    print("|---|---|")
    for label, value in throughput.items():
        print(f"| {label} | {value:.1f} |")


if __name__ == "__main__":
    main()
