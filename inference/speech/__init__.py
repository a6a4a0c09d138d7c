"""Voice commands: speech to text (Whisper tiny.en, pocketsphinx), speech/music gating and intents.

Entry points: ``listener.CommandListener`` (streaming, used by ``inference.session.TakeSession``),
``offline.transcribe_clip`` (one clip, ``manage.py transcribe``) and ``intents.parse`` (text to intent).
Heavy modules (CTranslate2, pocketsphinx, onnxruntime) load on first use. See docs/speech.md.
"""
