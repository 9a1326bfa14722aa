"""ScanView: wheel zoom around the cursor, drag to pan, fit, 1:1, hover coordinates, and
clicks, drawn boxes and drawn polygons in image pixels for the review overlay."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QGraphicsRectItem, QVBoxLayout, QWidget

from xray_gui.viewer.polygon import CLOSE_PX, PolygonSketch

# Arrays are (row, column) everywhere in this product; pyqtgraph must read them the same way.
pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

MIN_ZOOM, MAX_ZOOM = 0.01, 64.0
BOX_MARGIN = 0.25  # zooming to a box leaves this share of its larger side round it


class _ReviewViewBox(pg.ViewBox):
    """A ViewBox that reports left clicks, in draw mode turns a left drag into a box, and in
    polygon mode reports each left click as a vertex."""

    clicked = Signal(float, float)  # view (= image) coordinates
    boxDrawn = Signal(float, float, float, float)  # x0, y0, x1, y1 in image coordinates
    vertexClicked = Signal(float, float, bool)  # x, y, whether a double-click (polygon mode)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.draw_mode = False
        self.polygon_mode = False
        self._band = QGraphicsRectItem()
        self._band.setPen(pg.mkPen((255, 230, 0), width=1, style=Qt.PenStyle.DashLine))
        self._band.setZValue(1000)
        self._band.hide()
        self.addItem(self._band, ignoreBounds=True)

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            p = self.mapSceneToView(ev.scenePos())
            ev.accept()
            if self.polygon_mode:
                self.vertexClicked.emit(p.x(), p.y(), bool(ev.double()))
            else:
                self.clicked.emit(p.x(), p.y())
            return
        super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:
        if not (self.draw_mode and ev.button() == Qt.MouseButton.LeftButton):
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        a = self.mapSceneToView(ev.buttonDownScenePos(Qt.MouseButton.LeftButton))
        b = self.mapSceneToView(ev.scenePos())
        rect = QRectF(a, b).normalized()
        if ev.isFinish():
            self._band.hide()
            self.boxDrawn.emit(rect.left(), rect.top(), rect.right(), rect.bottom())
        else:
            self._band.setRect(rect)
            self._band.show()


class ScanView(QWidget):
    """Shows one RGB image; emits the image pixel under the cursor, or (-1, -1) off the image."""

    pixelHovered = Signal(int, int)
    zoomChanged = Signal(float)
    clicked = Signal(float, float)  # a left click, in image coordinates
    boxDrawn = Signal(float, float, float, float)  # dragged in draw mode, clipped to the image
    polygonDrawn = Signal(object)  # [(x, y), ...] closed in polygon mode, clipped to the image

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._graphics = pg.GraphicsView(background=pg.mkColor(40, 40, 40))
        self.view_box = _ReviewViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view_box.setMouseMode(pg.ViewBox.PanMode)
        self._graphics.setCentralItem(self.view_box)
        self.setFocusProxy(self._graphics)  # Esc in the note hands the keyboard back here
        self._graphics.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self._shape: tuple[int, int] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._graphics)
        self._graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view_box.sigRangeChanged.connect(lambda *_: self.zoomChanged.emit(self.zoom()))
        self.view_box.clicked.connect(self.clicked)
        self.view_box.boxDrawn.connect(self._on_box_drawn)
        self.sketch = PolygonSketch(self.view_box)
        self.view_box.vertexClicked.connect(self._on_vertex_clicked)

    def set_draw_mode(self, on: bool) -> None:
        """In draw mode a left drag draws a box instead of panning (the wheel still zooms)."""
        if on:
            self.set_polygon_mode(False)
        self.view_box.draw_mode = on
        self._set_cursor()

    def draw_mode(self) -> bool:
        return self.view_box.draw_mode

    def set_polygon_mode(self, on: bool) -> None:
        """In polygon mode each left click adds a vertex (a drag still pans, the wheel zooms);
        leaving it drops a polygon not yet closed."""
        if on:
            self.view_box.draw_mode = False
        self.view_box.polygon_mode = on
        self.sketch.clear()
        self._set_cursor()

    def polygon_mode(self) -> bool:
        return self.view_box.polygon_mode

    def _set_cursor(self) -> None:
        drawing = self.view_box.draw_mode or self.view_box.polygon_mode
        self._graphics.setCursor(
            Qt.CursorShape.CrossCursor if drawing else Qt.CursorShape.ArrowCursor
        )

    def finish_polygon(self) -> bool:
        """Close the polygon drawn so far (Enter, a double-click) and emit it, clipped to the
        image; False (and drawing goes on) with fewer than three vertices."""
        points = self.sketch.points
        if not self.polygon_mode() or len(points) < 3 or self._shape is None:
            return False
        h, w = self._shape
        clipped = [(min(max(x, 0.0), w), min(max(y, 0.0), h)) for x, y in points]
        self.sketch.clear()
        self.polygonDrawn.emit(clipped)
        return True

    def take_back_vertex(self) -> bool:
        """Remove the polygon's last vertex (Backspace); False when none is drawn."""
        return self.polygon_mode() and self.sketch.take_back()

    def _on_vertex_clicked(self, x: float, y: float, double: bool) -> None:
        if double:
            self.finish_polygon()  # its first click added the vertex already
        elif self._near_first_vertex(x, y) and self.finish_polygon():
            return
        else:
            self.sketch.add(x, y)

    def _near_first_vertex(self, x: float, y: float) -> bool:
        """Whether (x, y) is within CLOSE_PX screen pixels of the first of three or more."""
        points = self.sketch.points
        if len(points) < 3:
            return False
        px, py = self.view_box.viewPixelSize()
        dx, dy = (x - points[0][0]) / px, (y - points[0][1]) / py
        return math.hypot(dx, dy) <= CLOSE_PX

    def image_shape(self) -> tuple[int, int] | None:
        """(height, width) of the image shown, None when empty."""
        return self._shape

    def _on_box_drawn(self, x0: float, y0: float, x1: float, y1: float) -> None:
        if self._shape is None:
            return
        h, w = self._shape
        x0, x1 = min(max(x0, 0.0), w), min(max(x1, 0.0), w)
        y0, y1 = min(max(y0, 0.0), h), min(max(y1, 0.0), h)
        self.boxDrawn.emit(x0, y0, x1, y1)

    @property
    def graphics_view(self) -> pg.GraphicsView:
        return self._graphics

    def has_image(self) -> bool:
        return self._shape is not None

    def set_image(self, image: np.ndarray, *, reset_view: bool) -> None:
        """Show uint8 RGB `image`; `reset_view` fits it, otherwise the zoom and pan stay."""
        shape = image.shape[:2]
        self.image_item.setImage(image, autoLevels=False, levels=(0, 255))
        self.image_item.setRect(0, 0, shape[1], shape[0])
        changed = shape != self._shape
        self._shape = shape
        if reset_view or changed:
            self.fit()

    def clear(self) -> None:
        self.image_item.clear()
        self._shape = None

    def fit(self) -> None:
        """Fit the whole image in the window."""
        if self._shape is None:
            return
        h, w = self._shape
        self.view_box.setRange(xRange=(0, w), yRange=(0, h), padding=0.01)

    def fit_box(
        self, box_xyxy: tuple[float, float, float, float], margin: float = BOX_MARGIN
    ) -> None:
        """Fit the view to an image box (XYXY) with `margin` of its larger side (and two pixels)
        round it, centred on it; never closer than MAX_ZOOM."""
        if self._shape is None:
            return
        x0, y0, x1, y1 = (float(v) for v in box_xyxy)
        pad = max(x1 - x0, y1 - y0) * margin + 2.0
        size = self.view_box.size()
        half_w = max((x1 - x0) / 2 + pad, size.width() / MAX_ZOOM / 2)
        half_h = max((y1 - y0) / 2 + pad, size.height() / MAX_ZOOM / 2)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        self.view_box.setRange(
            xRange=(cx - half_w, cx + half_w), yRange=(cy - half_h, cy + half_h), padding=0
        )

    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        px = self.view_box.viewPixelSize()
        return 1.0 / px[0] if px[0] > 0 else 1.0

    def set_zoom(self, zoom: float, center: QPointF | None = None) -> None:
        """Set screen pixels per image pixel around `center` (view centre by default)."""
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        rect = self.view_box.viewRect()
        center = center if center is not None else rect.center()
        size = self.view_box.size()  # scene units are device-independent screen pixels
        half_w, half_h = size.width() / zoom / 2, size.height() / zoom / 2
        self.view_box.setRange(
            xRange=(center.x() - half_w, center.x() + half_w),
            yRange=(center.y() - half_h, center.y() + half_h),
            padding=0,
        )

    def one_to_one(self) -> None:
        """One image pixel per screen pixel, keeping the view centre."""
        self.set_zoom(1.0)

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.zoom() * factor)

    def image_pixel_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(x, y) of the image pixel under a scene position, None off the image."""
        if self._shape is None:
            return None
        p = self.view_box.mapSceneToView(scene_pos)
        x, y = math.floor(p.x()), math.floor(p.y())
        h, w = self._shape
        if 0 <= x < w and 0 <= y < h:
            return x, y
        return None

    def pixel_under_cursor(self) -> tuple[int, int] | None:
        """(x, y) of the image pixel under the mouse pointer now, None when not over it."""
        viewport = self._graphics.viewport()
        local = viewport.mapFromGlobal(QCursor.pos())
        if not viewport.rect().contains(local):
            return None
        return self.image_pixel_at(self._graphics.mapToScene(local))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if self.polygon_mode():
            p = self.view_box.mapSceneToView(scene_pos)
            self.sketch.point_at(p.x(), p.y())
        hit = self.image_pixel_at(scene_pos)
        self.pixelHovered.emit(*(hit if hit is not None else (-1, -1)))
