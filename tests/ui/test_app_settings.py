"""Accessibility and appearance settings take effect: text size at once, captions size in
calls."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from visio_desktop.ui.app import apply_font_scale


def test_text_size_scales_every_font(qapp: QApplication) -> None:
    base = qapp.font()
    try:
        apply_font_scale(qapp, base, 1.5)
        assert abs(qapp.font().pointSizeF() - base.pointSizeF() * 1.5) < 0.01
        apply_font_scale(qapp, base, 9.0)  # clamped
        assert abs(qapp.font().pointSizeF() - base.pointSizeF() * 3.0) < 0.01
    finally:
        qapp.setFont(base)
