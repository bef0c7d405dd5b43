//! The Flex Message subset sukusuku sends (bubbles and carousels of boxes, texts, buttons and
//! separators), serialised as the Messaging API expects and checked against its limits.

use serde::{Deserialize, Serialize};

use super::action::Action;
use super::limits;

/// A `type` field that can hold one value only. Every Flex object names its own type, also
/// where its place already implies it (a carousel's bubbles, a bubble's blocks), and reading
/// one back refuses any other type.
macro_rules! type_tag {
    ($name:ident, $value:literal) => {
        #[doc = concat!("The `type` of a Flex object: always `", $value, "`.")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            #[default]
            #[serde(rename = $value)]
            Tag,
        }
    };
}

type_tag!(BubbleType, "bubble");
type_tag!(CarouselType, "carousel");
type_tag!(BoxType, "box");
type_tag!(TextType, "text");
type_tag!(ButtonType, "button");
type_tag!(SeparatorType, "separator");

/// Each variant carries its own `type`, so the container is untagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlexContainer {
    /// Boxed: a bubble is large next to a carousel's vector.
    Bubble(Box<Bubble>),
    Carousel(Carousel),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carousel {
    #[serde(rename = "type")]
    pub kind: CarouselType,
    pub contents: Vec<Bubble>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bubble {
    #[serde(rename = "type")]
    pub kind: BubbleType,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub header: Option<FlexBox>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub body: Option<FlexBox>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub footer: Option<FlexBox>,
}

/// Each component carries its own `type`, so the enum is untagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlexComponent {
    Box(FlexBox),
    Text(FlexText),
    Button(FlexButton),
    Separator(FlexSeparator),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlexSeparator {
    #[serde(rename = "type")]
    pub kind: SeparatorType,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub margin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlexBox {
    #[serde(rename = "type")]
    pub kind: BoxType,
    /// `vertical`, `horizontal` or `baseline`.
    pub layout: String,
    pub contents: Vec<FlexComponent>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub spacing: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub margin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub padding_all: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub background_color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub border_color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub border_width: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub corner_radius: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub action: Option<Action>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlexText {
    #[serde(rename = "type")]
    pub kind: TextType,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weight: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub wrap: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flex: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub align: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub margin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlexButton {
    #[serde(rename = "type")]
    pub kind: ButtonType,
    pub action: Action,
    /// `primary`, `secondary` or `link`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub style: Option<String>,
    /// `sm` or `md`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub height: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub margin: Option<String>,
}

impl FlexText {
    pub fn new(text: impl Into<String>) -> FlexText {
        FlexText {
            text: text.into(),
            wrap: Some(true),
            ..FlexText::default()
        }
    }

    pub fn bold(mut self) -> FlexText {
        self.weight = Some("bold".into());
        self
    }

    pub fn size(mut self, size: &str) -> FlexText {
        self.size = Some(size.into());
        self
    }

    pub fn color(mut self, color: &str) -> FlexText {
        self.color = Some(color.into());
        self
    }

    pub fn flex(mut self, flex: u32) -> FlexText {
        self.flex = Some(flex);
        self
    }

    pub fn align_end(mut self) -> FlexText {
        self.align = Some("end".into());
        self
    }

    pub fn margin(mut self, margin: &str) -> FlexText {
        self.margin = Some(margin.into());
        self
    }
}

impl FlexBox {
    fn new(layout: &str, contents: Vec<FlexComponent>) -> FlexBox {
        FlexBox {
            kind: BoxType::Tag,
            layout: layout.into(),
            contents,
            spacing: None,
            margin: None,
            padding_all: None,
            background_color: None,
            border_color: None,
            border_width: None,
            corner_radius: None,
            action: None,
        }
    }

    pub fn vertical(contents: Vec<FlexComponent>) -> FlexBox {
        FlexBox::new("vertical", contents)
    }

    pub fn horizontal(contents: Vec<FlexComponent>) -> FlexBox {
        FlexBox::new("horizontal", contents)
    }

    pub fn spacing(mut self, spacing: &str) -> FlexBox {
        self.spacing = Some(spacing.into());
        self
    }

    pub fn padding(mut self, padding: &str) -> FlexBox {
        self.padding_all = Some(padding.into());
        self
    }

    pub fn background(mut self, color: &str) -> FlexBox {
        self.background_color = Some(color.into());
        self
    }

    /// A rounded outline, so a tappable row reads as a button.
    pub fn outlined(mut self, color: &str) -> FlexBox {
        self.border_color = Some(color.into());
        self.border_width = Some("normal".into());
        self.corner_radius = Some("md".into());
        self
    }

    pub fn on_tap(mut self, action: Action) -> FlexBox {
        self.action = Some(action);
        self
    }

    /// Every action in the box and the boxes inside it, in reading order.
    pub fn actions(&self) -> Vec<&Action> {
        let mut out: Vec<&Action> = self.action.iter().collect();
        for c in &self.contents {
            match c {
                FlexComponent::Box(b) => out.extend(b.actions()),
                FlexComponent::Button(b) => out.push(&b.action),
                FlexComponent::Text(_) | FlexComponent::Separator(_) => {}
            }
        }
        out
    }

    /// The texts in reading order, one per line (for alt texts, previews and tests).
    pub fn plain_text(&self) -> String {
        let mut lines = Vec::new();
        self.collect_text(&mut lines);
        lines.join("\n")
    }

    /// The box's own texts (not those of boxes inside it), in order.
    pub fn texts(&self) -> Vec<&str> {
        self.contents
            .iter()
            .filter_map(|c| match c {
                FlexComponent::Text(t) => Some(t.text.as_str()),
                _ => None,
            })
            .collect()
    }

    fn collect_text(&self, lines: &mut Vec<String>) {
        let row = self.texts();
        if self.layout != "vertical" && !row.is_empty() {
            lines.push(row.join(" "));
        }
        for c in &self.contents {
            match c {
                FlexComponent::Box(b) => b.collect_text(lines),
                FlexComponent::Text(t) if self.layout == "vertical" => lines.push(t.text.clone()),
                FlexComponent::Button(b) => lines.push(format!("[{}]", b.action.label())),
                _ => {}
            }
        }
    }

    fn validate(&self, path: &str) -> Result<(), String> {
        if !["vertical", "horizontal", "baseline"].contains(&self.layout.as_str()) {
            return Err(format!(
                "{path}: box layout `{}` is not one LINE knows",
                self.layout
            ));
        }
        if self.contents.is_empty() {
            return Err(format!("{path}: a box needs at least one component"));
        }
        if let Some(a) = &self.action {
            a.validate().map_err(|e| format!("{path}.action: {e}"))?;
        }
        for (i, c) in self.contents.iter().enumerate() {
            let path = format!("{path}.contents[{i}]");
            match c {
                FlexComponent::Box(b) => b.validate(&path)?,
                FlexComponent::Text(t) => {
                    if t.text.is_empty() {
                        return Err(format!("{path}: a text component's text is empty"));
                    }
                }
                FlexComponent::Button(b) => b
                    .action
                    .validate()
                    .map_err(|e| format!("{path}.action: {e}"))?,
                FlexComponent::Separator(_) => {}
            }
        }
        Ok(())
    }
}

impl FlexButton {
    pub fn new(action: Action, primary: bool) -> FlexButton {
        FlexButton {
            kind: ButtonType::Tag,
            action,
            style: Some(if primary { "primary" } else { "secondary" }.into()),
            height: Some("sm".into()),
            margin: None,
        }
    }
}

impl From<FlexText> for FlexComponent {
    fn from(t: FlexText) -> FlexComponent {
        FlexComponent::Text(t)
    }
}

impl From<FlexBox> for FlexComponent {
    fn from(b: FlexBox) -> FlexComponent {
        FlexComponent::Box(b)
    }
}

impl From<FlexButton> for FlexComponent {
    fn from(b: FlexButton) -> FlexComponent {
        FlexComponent::Button(b)
    }
}

impl Bubble {
    fn blocks(&self) -> impl Iterator<Item = (&'static str, &FlexBox)> {
        [
            ("header", self.header.as_ref()),
            ("body", self.body.as_ref()),
            ("footer", self.footer.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, b)| b.map(|b| (name, b)))
    }

    pub fn actions(&self) -> Vec<&Action> {
        self.blocks().flat_map(|(_, b)| b.actions()).collect()
    }

    pub fn plain_text(&self) -> String {
        self.blocks()
            .map(|(_, b)| b.plain_text())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn validate(&self, path: &str) -> Result<(), String> {
        if self.blocks().next().is_none() {
            return Err(format!("{path}: a bubble needs a header, body or footer"));
        }
        for (name, b) in self.blocks() {
            b.validate(&format!("{path}.{name}"))?;
        }
        let bytes = serde_json::to_vec(self).map_or(usize::MAX, |v| v.len());
        if bytes > limits::MAX_FLEX_BUBBLE_BYTES {
            return Err(format!(
                "{path} is {bytes} bytes of JSON; sukusuku keeps a bubble within {}",
                limits::MAX_FLEX_BUBBLE_BYTES
            ));
        }
        Ok(())
    }
}

impl FlexContainer {
    pub fn carousel(bubbles: Vec<Bubble>) -> FlexContainer {
        FlexContainer::Carousel(Carousel {
            kind: CarouselType::Tag,
            contents: bubbles,
        })
    }

    pub fn bubbles(&self) -> &[Bubble] {
        match self {
            FlexContainer::Bubble(b) => std::slice::from_ref(&**b),
            FlexContainer::Carousel(c) => &c.contents,
        }
    }

    pub fn actions(&self) -> Vec<&Action> {
        self.bubbles().iter().flat_map(Bubble::actions).collect()
    }

    pub fn plain_text(&self) -> String {
        self.bubbles()
            .iter()
            .map(Bubble::plain_text)
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    pub fn validate(&self) -> Result<(), String> {
        match self {
            FlexContainer::Bubble(b) => b.validate("bubble"),
            FlexContainer::Carousel(Carousel { contents, .. }) => {
                if contents.is_empty() || contents.len() > limits::MAX_CAROUSEL_BUBBLES {
                    return Err(format!(
                        "a carousel has {} bubbles; LINE takes 1–{}",
                        contents.len(),
                        limits::MAX_CAROUSEL_BUBBLES
                    ));
                }
                for (i, b) in contents.iter().enumerate() {
                    b.validate(&format!("carousel[{i}]"))?;
                }
                let bytes = serde_json::to_vec(self).map_or(usize::MAX, |v| v.len());
                if bytes > limits::MAX_FLEX_CAROUSEL_BYTES {
                    return Err(format!(
                        "the carousel is {bytes} bytes of JSON; LINE takes {}",
                        limits::MAX_FLEX_CAROUSEL_BYTES
                    ));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> Bubble {
        Bubble {
            body: Some(FlexBox::vertical(vec![
                FlexText::new("健診").into(),
                FlexBox::horizontal(vec![FlexText::new("✓ 健診").into()])
                    .on_tap(Action::postback("健診", "v1:cat:checkup:off"))
                    .into(),
                FlexButton::new(Action::postback("すべて", "v1:cat-all"), false).into(),
                FlexComponent::Separator(FlexSeparator::default()),
            ])),
            ..Bubble::default()
        }
    }

    /// LINE reads a carousel's bubbles and a bubble's blocks by their `type` too.
    #[test]
    fn every_object_names_its_type_as_line_expects() {
        let carousel = FlexContainer::carousel(vec![card()]);
        let json = serde_json::to_value(&carousel).expect("json");
        assert_eq!(json["type"], "carousel");
        let bubble = &json["contents"][0];
        assert_eq!(bubble["type"], "bubble");
        assert_eq!(bubble["body"]["type"], "box");
        let parts: Vec<&str> = bubble["body"]["contents"]
            .as_array()
            .expect("contents")
            .iter()
            .filter_map(|c| c["type"].as_str())
            .collect();
        assert_eq!(parts, ["text", "box", "button", "separator"]);
        assert_eq!(bubble["body"]["contents"][1]["contents"][0]["type"], "text");
        // Read back, each object is what it was, and a wrong type is refused.
        let back: FlexContainer = serde_json::from_value(json.clone()).expect("round trip");
        assert_eq!(back, carousel);
        let single = FlexContainer::Bubble(Box::new(card()));
        let back: FlexContainer =
            serde_json::from_value(serde_json::to_value(&single).expect("json")).expect("back");
        assert_eq!(back, single);
        let mut wrong = json;
        wrong["contents"][0]["type"] = "carousel".into();
        assert!(serde_json::from_value::<FlexContainer>(wrong).is_err());
    }
}
