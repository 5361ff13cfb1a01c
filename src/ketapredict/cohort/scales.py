"""Rating scales and the documented mapping from the MADRS-equivalent severity the engine uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """A rating scale: its range, its remission cut-off and its factor from MADRS points.

    The engine keeps every patient's severity on the MADRS scale and shows it on the study's
    scale by a proportional mapping (score = factor x MADRS-equivalent), so a relative change
    -- and hence response, a >=50 % reduction -- means the same on every scale. The factors are
    the ratio of typical baseline means in TRD trials (MADRS ~32, HDRS-17 ~24, HDRS-21 ~25.6,
    HDRS-25 ~30.4, IES-R ~48 in chronic PTSD; HAM-D-6 ~13 and CAPS-5 ~42 are assumptions, see
    below); see README "Rating scales".
    """

    name: str
    label: str
    max_score: int
    factor: float
    remission_max: int


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("madrs", "MADRS", 60, 1.00, 10),
        Scale("hdrs17", "HDRS-17", 52, 0.75, 7),
        Scale("hdrs21", "HDRS-21", 64, 0.80, 7),
        Scale("hdrs25", "HDRS-25", 76, 0.95, 9),
        Scale("iesr", "IES-R", 88, 1.50, 24),
        # HAM-D-6 (Bech melancholia subscale of the HDRS-17: 5 items 0-4, 1 item 0-2), the
        # primary scale of the RAPID dose-finding trial (Fava 2020,
        # https://pmc.ncbi.nlm.nih.gov/articles/PMC6447473). Factor: assumption -- no baseline
        # HAM-D-6 mean could be read in a stored page; ~13 against MADRS ~32 (unverified
        # recollection of RAPID's baselines), consistent with the six core items carrying a
        # larger share of an HDRS-17 score than their 22 of 52 points (0.75 x 22/52 = 0.32).
        # Remission <= 4 is the conventional Bech cut-off (assumption: not read in a page).
        Scale("hamd6", "HAM-D-6", 22, 0.40, 4),
        # CAPS-5 total severity (20 DSM-5 items 0-4; range 0-80 read at
        # https://meddatax.com/clinical-trials/NCT02397889/results, the registry record of
        # Feder 2021). 28 marks moderate or worse PTSD (MAPP2 inclusion,
        # https://worldindependant.com/mdma-assisted-therapy-for-moderate-to-severe-ptsd-a-randomized-placebo-controlled-phase-3-trial/).
        # Factor: assumption -- baseline means ~40-45 in moderate-to-severe trials (unverified)
        # against MADRS ~32. Remission <= 11 (with loss of diagnosis, as in the MDMA phase 3
        # trials): assumption, not read in a page.
        Scale("caps5", "CAPS-5", 80, 1.30, 11),
    )
}
