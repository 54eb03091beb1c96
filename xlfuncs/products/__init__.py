"""The products, each described once in its own module: add a product by adding its module here."""
from .bearish_note import PRODUCT as BEARISH_NOTE
from .bullish_note import PRODUCT as BULLISH_NOTE
from .put_warrant import PRODUCT as PUT_WARRANT

PRODUCTS = (BEARISH_NOTE, PUT_WARRANT, BULLISH_NOTE)
BY_KEY = {product.key: product for product in PRODUCTS}
