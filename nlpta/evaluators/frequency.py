"""Frequency feature bias: features whose marginal frequency P(X) differs between two domains.

Scores are log-odds ratios with an informative Dirichlet prior, reported as z-scores (Monroe,
Colaresi & Quinn 2008, "Fightin' Words", section 3.5): stable for rare words, where raw frequency
ratios explode. The prior is the pooled frequency of both domains, scaled by ``prior_strength``.
"""

from __future__ import annotations

import datasets
import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from ..errors import Errors
from ._common import bh_fdr, check_pair, count_matrix, doc_features, docs_tokens

FREQUENCY_COLUMNS = ["feature", "source_count", "target_count", "source_docs", "target_docs",
                     "source_per_million", "target_per_million", "score", "p_value", "q_value", "biased"]


def log_odds_z(y_a: np.ndarray, y_b: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds ratio of each feature between corpus b and corpus a with a Dirichlet prior, and its
    z-score (Monroe et al. 2008, eq. 16-22). Positive: relatively more frequent in b.

    Args:
        y_a, y_b: counts per feature in each corpus. prior: Dirichlet pseudo-counts per feature.
    Returns:
        ``(delta, z)``.
    """
    y_a = np.asarray(y_a, dtype=float)
    y_b = np.asarray(y_b, dtype=float)
    a0 = prior.sum()
    n_a, n_b = y_a.sum(), y_b.sum()
    la = np.log(y_a + prior) - np.log(n_a + a0 - y_a - prior)
    lb = np.log(y_b + prior) - np.log(n_b + a0 - y_b - prior)
    delta = lb - la
    var = 1.0 / (y_a + prior) + 1.0 / (y_b + prior)
    return delta, delta / np.sqrt(var)


def frequency_bias(
    source: datasets.Dataset,
    target: datasets.Dataset,
    *,
    task: str | None = None,
    ngram: int | None = None,
    suffix: int | None = None,
    unit: str = "document",
    prior_strength: float = 0.1,
    min_count: int = 3,
    alpha: float = 0.05,
    lowercase: bool = True,
) -> pd.DataFrame:
    """Rank features by how differently often they occur in ``source`` and ``target``.

    Args:
        task: ``pos`` or ``sentiment`` (detected from the columns when omitted).
        ngram: word n-grams up to this length (default: 2 for sentiment, 1 for POS).
        suffix: also count word suffixes of this length (default: 3 for POS, 0 for sentiment).
        unit: ``document`` counts a feature once per row (robust to words repeated inside one review,
            which make token counts overdispersed) or ``token`` (every occurrence, as in Monroe et al.).
        prior_strength: Dirichlet pseudo-counts per feature = pooled count x this (plus 0.01).
        min_count: features with fewer pooled occurrences are not tested.
        alpha: false-discovery rate for the ``biased`` flag (Benjamini-Hochberg over tested features).

    Returns:
        a DataFrame (columns ``FREQUENCY_COLUMNS``) sorted by ``|score|``: counts (tokens and rows) in
        each domain, frequencies per million tokens, ``score`` (z of the log-odds ratio; positive =
        over-represented in the target), two-sided ``p_value``, BH ``q_value``, ``biased`` (q < alpha).
    """
    task = check_pair(source, target, task)
    if unit not in ("document", "token"):
        raise Errors.E601(what="frequency_bias", option="unit", expected="'document' or 'token'", got=unit)
    ngram = ngram or (2 if task == "sentiment" else 1)
    suffix = (3 if task == "pos" else 0) if suffix is None else suffix
    feats = [[doc_features(d, ngram, suffix) for d in docs_tokens(ds, task, lowercase)] for ds in (source, target)]
    xs, xt, names = count_matrix(*feats)
    cs, ct = np.asarray(xs.sum(0)).ravel(), np.asarray(xt.sum(0)).ravel()
    ds_, dt = np.asarray((xs > 0).sum(0)).ravel(), np.asarray((xt > 0).sum(0)).ravel()
    keep = (cs + ct) >= min_count
    ya, yb = (ds_, dt) if unit == "document" else (cs, ct)
    ya, yb = ya[keep].astype(float), yb[keep].astype(float)
    prior = (ya + yb) * prior_strength + 0.01
    _, z = log_odds_z(ya, yb, prior)
    p = 2 * stats.norm.sf(np.abs(z))
    q = bh_fdr(p)
    words_s, words_t = cs[keep].sum(), ct[keep].sum()
    df = pd.DataFrame({
        "feature": names[keep], "source_count": cs[keep], "target_count": ct[keep],
        "source_docs": ds_[keep], "target_docs": dt[keep],
        "source_per_million": 1e6 * cs[keep] / max(words_s, 1), "target_per_million": 1e6 * ct[keep] / max(words_t, 1),
        "score": z, "p_value": p, "q_value": q, "biased": q < alpha,
    })
    order = np.argsort(-np.abs(z), kind="stable")
    return df.iloc[order].reset_index(drop=True)


def frequency_summary(
    source: datasets.Dataset,
    target: datasets.Dataset,
    table: pd.DataFrame | None = None,
    *,
    task: str | None = None,
    lowercase: bool = True,
) -> dict:
    """Corpus-level summaries of the marginal shift.

    Returns ``{js_divergence, oov_type_rate, oov_token_rate, biased_token_share, source_tokens,
    target_tokens, source_types, target_types}``: the Jensen-Shannon divergence (base 2) of the two
    unigram distributions; the share of target word types / tokens never seen in the source; and the
    share of target tokens that are words flagged as frequency-biased in ``table`` (if given).
    """
    task = check_pair(source, target, task)
    ts, tt = (docs_tokens(ds, task, lowercase) for ds in (source, target))
    xs, xt, names = count_matrix(ts, tt)
    cs, ct = np.asarray(xs.sum(0)).ravel().astype(float), np.asarray(xt.sum(0)).ravel().astype(float)
    js = float(jensenshannon(cs / cs.sum(), ct / ct.sum(), base=2) ** 2)
    in_t = ct > 0
    oov = in_t & (cs == 0)
    out = {
        "js_divergence": js,
        "oov_type_rate": float(oov.sum() / in_t.sum()),
        "oov_token_rate": float(ct[oov].sum() / ct.sum()),
        "source_tokens": int(cs.sum()), "target_tokens": int(ct.sum()),
        "source_types": int((cs > 0).sum()), "target_types": int(in_t.sum()),
    }
    if table is not None:
        biased = set(table.loc[table["biased"], "feature"])
        mask = np.fromiter((n in biased for n in names), dtype=bool, count=len(names))
        out["biased_token_share"] = float(ct[mask].sum() / ct.sum())
        out["biased_features"] = int(table["biased"].sum())
    return out
