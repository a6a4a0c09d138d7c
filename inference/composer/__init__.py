"""The composer: human-in-the-loop reinforcement learning of melodies, after Justus (2023).

``track`` is the environment, ``agents`` the original, fixed and improved Q-learning agents and the baselines,
``reward_model`` the learned model of a learner's ratings that the improved agent plans with, ``loop`` the
rate-learn-propose cycle, ``qtable`` the Q-values and their JSON form, ``raters`` simulated
learners for the benchmark, ``export`` MIDI and MusicXML.
"""
