//! The font every chart and label is drawn with: DejaVu Sans (assets/DejaVuSans.ttf, Bitstream
//! Vera licence in assets/DejaVuSans-LICENSE.txt), compiled into the binary and registered with
//! plotters as its sans-serif family, so charts look the same on every machine and need no
//! system font library (fontconfig) at build or run time.

use std::sync::Once;

use plotters::style::FontStyle;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Register the font (once per process) before plotters draws any text.
pub fn register() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bytes are a fixed, valid TrueType file: parsing them cannot fail at run time
        // unless the asset itself is broken, which the unit test below catches.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, FONT);
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_font_parses() {
        assert!(
            plotters::style::register_font("test-family", super::FontStyle::Normal, super::FONT)
                .is_ok()
        );
    }
}
