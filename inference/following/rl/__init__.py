"""Score following as a reinforcement-learning game (Dorfer, Henkel & Widmer, ISMIR 2018; Henkel et al.,
TISMIR 2019), rebuilt on Etude's data and live path.

The agent sees the last frames of a log-frequency spectrogram and a window of the score centred on where it
believes the performer is, and each frame changes its reading speed by -step, 0 or +step; the position moves
by the speed. ``features`` (audio), ``score_roll`` / ``score_image`` (the two score views), ``env`` (the
game), ``model`` and ``training`` (A2C/PPO in torch, ONNX export), ``follower`` (the agent behind the common
follower interface) and ``evaluation`` (tracking ratio and the shared onset metrics).
"""
