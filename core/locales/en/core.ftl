# Core's texts in English: what the phone shows from core (findings, photo quality, score reasons).
# Each id is a stable code; apps and integrations match on the code, people read the text.

## Order findings. $line is the line's number on the order.

finding-price-below-floor = line { $line }: unit price { $price } below floor { $floor } for tier { $tier }
