//! Prints a sample of the bundled world (for eyeballing the generated text).
#![allow(clippy::print_stdout)]
fn main() {
    let w = yuqing_demo::DemoWorld::bundled().expect("bundled world");
    let t = std::time::Instant::now();
    let stats = w.stats();
    println!("{stats:?} built in {:?}", t.elapsed());
    let world = w.world();
    let end = yuqing_demo::default_start() + chrono::Duration::hours(48);
    let items = w.items_at(end);
    println!("items at 48h: {}", items.len());
    for it in items
        .iter()
        .filter(|i| i.extra.contains_key("demo_incident"))
        .step_by(97)
        .take(40)
    {
        println!(
            "[{}] {} {} {:?} | {}",
            it.platform,
            it.published_at.format("%d %H:%M"),
            it.extra["demo_incident"],
            it.title,
            it.text
        );
    }
    for it in items
        .iter()
        .filter(|i| !i.extra.contains_key("demo_incident"))
        .step_by(301)
        .take(25)
    {
        println!(
            "[{}] {} {:?} | {}",
            it.platform,
            it.published_at.format("%d %H:%M"),
            it.title,
            it.text
        );
    }
    let _ = world;
}
