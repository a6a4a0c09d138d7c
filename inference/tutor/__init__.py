"""The tutor: which exercise each learner practises next, at what tempo, with which help.

- ``exercises``: the catalogue of a course (lessons, passages, composer melodies) and the action space.
- ``simulators``: simulated learner families (BKT, hidden continuous skills, power-law practice with fatigue).
- ``history``: what Etude has observed of each learner, and the features policies read.
- ``policies``: fixed curriculum, mastery rule, ZPDES-style bandit, PPO served with onnxruntime.
- ``ppo`` / ``train``: the actor-critic and its training over the simulated population.
- ``evaluate``: roll policies out over simulated learners and measure them.
"""
